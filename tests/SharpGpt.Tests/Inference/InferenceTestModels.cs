using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Kernels;
using SharpGpt.Tests.Model;

namespace SharpGpt.Tests.Inference;

/// <summary>Model shapes and a full-recompute reference for the inference tests.</summary>
internal static class InferenceTestModels
{
    /// <summary>3 heads of size 6: not a multiple of the SIMD width, so the scalar tails run too.</summary>
    public static GptConfig OddHeads => new(MaxSeqLen: 12, VocabSize: 50, NumLayers: 3, NumHeads: 3, Channels: 18);

    /// <summary>Wide enough that a full-block prefill takes the multithreaded attention path.</summary>
    public static GptConfig Wide => new(MaxSeqLen: 40, VocabSize: 61, NumLayers: 2, NumHeads: 4, Channels: 64);

    public static GptConfig ByName(string name) => name switch
    {
        "tiny" => TestModels.Tiny,
        "odd" => OddHeads,
        "wide" => Wide,
        _ => throw new ArgumentException(name),
    };

    /// <summary>A seeded model with its qkv weights scaled up: at GPT-2 init the attention is nearly
    /// uniform, and a wrong key, position or scale would hardly move the logits.</summary>
    public static GptNetwork Create(GptConfig config, ParallelRunner runner, ulong seed = 7)
    {
        var model = TestModels.Create(config, runner, seed);
        var span = model.Parameters.Slice(model.Layout.Offsets[model.Layout.IndexOf("qkvw")], (int)model.Layout.Sizes[model.Layout.IndexOf("qkvw")]);
        foreach (ref float w in span)
        {
            w *= 8;
        }

        return model;
    }

    /// <summary>Logits (V) at every position of a full forward over the sequence, no cache.</summary>
    public static unsafe float[][] FullLogits(GptNetwork model, ReadOnlySpan<int> tokens)
    {
        int t = tokens.Length, v = model.Config.VocabSize, vp = model.Config.PaddedVocabSize;
        model.Forward(tokens, [], 1, t);
        var rows = new float[t][];
        for (int i = 0; i < t; i++)
        {
            rows[i] = new ReadOnlySpan<float>(model.Logits + ((long)i * vp), v).ToArray();
        }

        return rows;
    }

    public static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++)
        {
            if (x[i] > x[best])
            {
                best = i;
            }
        }

        return best;
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string where)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = MathF.Abs(expected[i] - actual[i]);
            Assert.True(diff <= tolerance, $"{where}: logit {i} differs by {diff} ({actual[i]} vs {expected[i]})");
        }
    }
}
