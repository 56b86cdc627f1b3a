using System.Text.Json;
using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Tests.Eval;

/// <summary>Models and files for the HellaSwag tests.</summary>
internal static class HellaSwagTestModels
{
    /// <summary>
    /// A GPT-2 whose logits are the same at every position: all block weights and LayerNorm gains
    /// are zero, so the residual stream passes through untouched and the final LayerNorm outputs its
    /// bias (1, 0, 0, 0); the logit of token v is then wte[v, 0] = <paramref name="scores"/>[v] (0 if
    /// not given). The loss of predicting y is log(sum_v exp(s_v)) - s_y, whatever the context.
    /// </summary>
    public static unsafe GptNetwork FixedScores(ParallelRunner runner, IReadOnlyDictionary<int, float> scores, int vocab = 50257, int blockSize = 64)
    {
        var model = new GptNetwork(new GptConfig(blockSize, vocab, NumLayers: 1, NumHeads: 1, Channels: 4), new CpuKernels(runner));
        var p = model.Params;
        foreach (var (id, score) in scores)
        {
            p.Wte[id * 4] = score;
        }

        p.LnFB[0] = 1;
        return model;
    }

    /// <summary>The loss of predicting <paramref name="token"/> under <see cref="FixedScores"/>, in double precision.</summary>
    public static double FixedScoreLoss(IReadOnlyDictionary<int, float> scores, int vocab, int token)
    {
        double sum = vocab - scores.Count;
        foreach (float s in scores.Values)
        {
            sum += Math.Exp(s);
        }

        return Math.Log(sum) - (scores.TryGetValue(token, out float t) ? t : 0);
    }

    public static string Line(string ctx, string[] endings, int label) =>
        JsonSerializer.Serialize(new { ind = 0, activity_label = "test", ctx_a = ctx, ctx_b = "", ctx, endings, source_id = "test", split = "val", split_type = "indomain", label });
}
