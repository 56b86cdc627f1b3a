using SharpGpt.Data;
using SharpGpt.Model;

namespace SharpGpt.Eval;

/// <summary>
/// HellaSwag scored the completion way build-nanogpt does: each example becomes four rows, the
/// context tokens followed by the tokens of " " + ending; the loss counts the ending tokens only;
/// the ending with the lowest mean loss is the prediction for acc_norm, the lowest summed loss for
/// acc. The four rows of an example run as one (B = 4) forward (<see cref="GptNetwork.ScoreTargets"/>,
/// which runs the output layer on the ending positions only), padded to a multiple of
/// <see cref="LengthStep"/> tokens; examples are run grouped by that length so the model reallocates
/// its activations once per length, not once per example. A row longer than the block size keeps its tail.
/// </summary>
internal sealed class HellaSwagEvaluator
{
    /// <summary>Rows are padded to a multiple of this many tokens.</summary>
    public const int LengthStep = 16;

    private readonly GptNetwork _model;
    private readonly Rendered[] _items;

    /// <summary>Tokenizes every example now, so a bad one fails before any scoring.</summary>
    public HellaSwagEvaluator(GptNetwork model, GptTokenizer tokenizer, IReadOnlyList<HellaSwagExample> examples)
    {
        if (tokenizer.VocabSize > model.Config.VocabSize)
        {
            throw new SharpGptException($"tokenizer {tokenizer.Name}", $"has {tokenizer.VocabSize} tokens but the model only {model.Config.VocabSize}", "use the tokenizer the model was trained with.");
        }

        _model = model;
        _items = new Rendered[examples.Count];
        for (int i = 0; i < examples.Count; i++)
        {
            _items[i] = Render(examples[i], i, tokenizer, model.Config.MaxSeqLen);
        }
    }

    public int Count => _items.Length;

    /// <summary>Tokens one scoring of every example runs through the model: four padded rows per example.</summary>
    public long TokensPerPass => _items.Sum(r => (long)HellaSwagExample.EndingCount * r.T);

    /// <summary>The padded sequence lengths the examples need, longest first; one activation allocation each.</summary>
    public IReadOnlyList<int> Lengths => [.. _items.Select(r => r.T).Distinct().OrderDescending()];

    /// <summary>Scores the examples (those at positions i with i % shardCount == shard, for data-parallel
    /// ranks) and returns their predictions in example order. <paramref name="progress"/> gets (done, total); a
    /// <paramref name="stop"/> request ends the scoring early, with the predictions made so far.</summary>
    public HellaSwagResult Evaluate(Action<int, int>? progress = null, int shard = 0, int shardCount = 1, CancellationToken stop = default)
    {
        if (shardCount < 1 || shard < 0 || shard >= shardCount)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), $"shard {shard} of {shardCount}");
        }

        var mine = _items.Where(r => r.Index % shardCount == shard).ToList();
        var order = mine.OrderBy(r => r.T).ThenBy(r => r.Index).ToList();
        var byIndex = new Dictionary<int, HellaSwagPrediction>(mine.Count);
        for (int i = 0; i < order.Count && !stop.IsCancellationRequested; i++)
        {
            byIndex[order[i].Index] = Score(order[i]);
            progress?.Invoke(i + 1, order.Count);
        }

        return new HellaSwagResult([.. mine.Where(r => byIndex.ContainsKey(r.Index)).Select(r => byIndex[r.Index])]);
    }

    private HellaSwagPrediction Score(Rendered item)
    {
        const int rows = HellaSwagExample.EndingCount;
        int t = item.T;
        var inputs = new int[rows * t];
        var targets = new int[rows * t];
        targets.AsSpan().Fill(-1);
        for (int r = 0; r < rows; r++)
        {
            int[] tokens = item.Rows[r];
            int offset = r * t;
            for (int i = 0; i + 1 < tokens.Length; i++)
            {
                inputs[offset + i] = tokens[i];
                if (i + 1 >= item.ScoreFrom[r])
                {
                    targets[offset + i] = tokens[i + 1];
                }
            }
        }

        _model.ScoreTargets(inputs, targets, rows, t);
        var losses = _model.TokenLosses;
        var sums = new double[rows];
        var means = new double[rows];
        var counts = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int i = 0; i < t; i++)
            {
                sum += losses[(r * t) + i];
            }

            counts[r] = item.Rows[r].Length - item.ScoreFrom[r];
            sums[r] = sum;
            means[r] = sum / counts[r];
        }

        return new HellaSwagPrediction(item.Index, item.Label, ArgMin(sums), ArgMin(means), sums, means, counts);
    }

    /// <summary>The first index of the smallest value (as torch.argmin picks).</summary>
    private static int ArgMin(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] < values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static Rendered Render(HellaSwagExample example, int index, GptTokenizer tokenizer, int blockSize)
    {
        string where = string.IsNullOrEmpty(example.Source) ? $"HellaSwag example {index}" : example.Source;
        int[] context;
        var rows = new int[HellaSwagExample.EndingCount][];
        var scoreFrom = new int[HellaSwagExample.EndingCount];
        int longest = 0;
        try
        {
            context = tokenizer.Encode(example.Context);
            for (int r = 0; r < rows.Length; r++)
            {
                int[] ending = tokenizer.Encode(" " + example.Endings[r]);
                int[] row = [.. context, .. ending];
                int start = context.Length;
                // The model sees at most blockSize inputs, which predict blockSize + 1 tokens: keep the tail.
                int drop = Math.Max(0, row.Length - (blockSize + 1));
                row = row[drop..];
                // The first token of a row is never predicted, so it cannot be scored.
                start = Math.Max(1, start - drop);
                if (start >= row.Length)
                {
                    throw new SharpGptException(where, $"ending {r} has no token to score (an empty context and a one-token ending, or an empty ending).");
                }

                rows[r] = row;
                scoreFrom[r] = start;
                longest = Math.Max(longest, row.Length - 1);
            }
        }
        catch (ArgumentException e)
        {
            throw new SharpGptException(where, $"cannot tokenize it: {e.Message}", innerException: e);
        }

        int t = Math.Min(blockSize, (longest + LengthStep - 1) / LengthStep * LengthStep);
        return new Rendered(index, example.Label, rows, scoreFrom, t);
    }

    /// <summary>One example as token rows: row r scores tokens [ScoreFrom[r], Rows[r].Length); T is the padded input length.</summary>
    private sealed record Rendered(int Index, int Label, int[][] Rows, int[] ScoreFrom, int T);
}
