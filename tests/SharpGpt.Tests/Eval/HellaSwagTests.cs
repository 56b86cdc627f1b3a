using SharpGpt.Data;
using SharpGpt.Eval;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.Eval;

public sealed class HellaSwagTests : IDisposable
{
    private readonly ParallelRunner _runner = new(2);
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        _runner.Dispose();
        _dir.Dispose();
    }

    /// <summary>Three examples with known answers under a model that likes " dog" (score 6) and " cat" (score 3).</summary>
    internal static (HellaSwagExample[] Examples, Dictionary<int, float> Scores) KnownCase(Gpt2Tokenizer gpt2)
    {
        int dog = gpt2.Encode(" dog").Single(), cat = gpt2.Encode(" cat").Single();
        var scores = new Dictionary<int, float> { [dog] = 6f, [cat] = 3f };
        HellaSwagExample[] examples =
        [
            // " dog" is the likeliest ending by sum and by mean: both right.
            new("The pet is a", ["cat", "dog", "fish", "bird"], 1),
            // Four " dog" tokens have the lowest mean (acc_norm right) but a larger sum than one " cat" (acc wrong).
            new("I saw a", ["dog dog dog dog", "cat", "house", "tree"], 0),
            // The answer is "car", but " cat" wins both ways: both wrong.
            new("He drove a", ["tree", "house", "car", "cat"], 2),
        ];
        return (examples, scores);
    }

    [Fact]
    public void AModelWithKnownLossesGivesTheHandComputedScores()
    {
        var gpt2 = new Gpt2Tokenizer();
        var (examples, scores) = KnownCase(gpt2);
        using var model = HellaSwagTestModels.FixedScores(_runner, scores);
        var result = new HellaSwagEvaluator(model, gpt2, examples).Evaluate();

        Assert.Equal([1, 1, 3], result.Predictions.Select(p => p.Predicted));
        Assert.Equal([1, 0, 3], result.Predictions.Select(p => p.PredictedNorm));
        Assert.Equal(3, result.Count);
        Assert.Equal(1, result.Correct);
        Assert.Equal(2, result.CorrectNorm);
        Assert.Equal(1.0 / 3, result.Accuracy);
        Assert.Equal(2.0 / 3, result.AccuracyNorm);

        // Every ending's loss, from its tokens alone, in double precision.
        for (int e = 0; e < examples.Length; e++)
        {
            var p = result.Predictions[e];
            Assert.Equal(e, p.Index);
            Assert.Equal(examples[e].Label, p.Label);
            for (int r = 0; r < 4; r++)
            {
                int[] tokens = gpt2.Encode(" " + examples[e].Endings[r]);
                double expected = tokens.Sum(t => HellaSwagTestModels.FixedScoreLoss(scores, 50257, t));
                Assert.Equal(tokens.Length, p.TokenCounts[r]);
                Assert.True(Math.Abs(p.LossSums[r] - expected) < 1e-4 * expected, $"example {e} ending {r}: {p.LossSums[r]} vs {expected}");
                Assert.Equal(p.LossSums[r] / tokens.Length, p.LossMeans[r], 12);
            }
        }
    }

    [Fact]
    public void PaddedBatchedRowsScoreLikeEachRowAloneIncludingRowsLongerThanTheBlock()
    {
        const int block = 16;
        var tokenizer = CharTokenizer.FromText("abcdefghijklmnopqrstuvwxyz .,");
        using var model = new GptNetwork(new GptConfig(block, tokenizer.VocabSize, 2, 2, 16), new CpuKernels(_runner));
        model.InitializeWeights(11);
        var rng = new Rng(5);
        string Text(int min, int max) => new(Enumerable.Range(0, min + rng.NextInt(max - min + 1)).Select(_ => "abcdefghijklmnopqrstuvwxyz .,"[rng.NextInt(29)]).ToArray());
        var examples = Enumerable.Range(0, 12).Select(i => new HellaSwagExample(
            i == 0 ? Text(1, 1) : Text(3, i < 4 ? 40 : 12),                       // some contexts longer than the block
            [Text(1, 6), Text(1, 6), i == 5 ? Text(30, 30) : Text(0, 8), Text(1, 4)],        // one ending longer than the block
            i % 4)).ToArray();

        var evaluator = new HellaSwagEvaluator(model, tokenizer, examples);
        Assert.All(evaluator.Lengths, t => Assert.True(t is 16 || t % HellaSwagEvaluator.LengthStep == 0));
        var result = evaluator.Evaluate();

        for (int e = 0; e < examples.Length; e++)
        {
            var ctx = tokenizer.Encode(examples[e].Context);
            var sums = new double[4];
            for (int r = 0; r < 4; r++)
            {
                int[] row = [.. ctx, .. tokenizer.Encode(" " + examples[e].Endings[r])];
                int drop = Math.Max(0, row.Length - (block + 1));
                row = row[drop..];
                int from = Math.Max(1, ctx.Length - drop);
                int t = row.Length - 1;
                int[] targets = [.. Enumerable.Range(0, t).Select(i => i + 1 >= from ? row[i + 1] : -1)];
                model.Forward(row[..t], targets, 1, t);
                sums[r] = model.LossSum;
                Assert.Equal(row.Length - from, result.Predictions[e].TokenCounts[r]);
                Assert.True(Math.Abs(result.Predictions[e].LossSums[r] - sums[r]) < 1e-4, $"example {e} ending {r}: {result.Predictions[e].LossSums[r]} vs {sums[r]}");
            }

            Assert.Equal(Array.IndexOf(sums, sums.Min()), result.Predictions[e].Predicted);
        }

        Assert.Equal(block, result.Predictions[5].TokenCounts[2]); // a 31-token ending keeps its last 16 predictions
    }

    [Fact]
    public void ShardsSplitTheExamplesAndTogetherGiveTheWhole()
    {
        var gpt2 = new Gpt2Tokenizer();
        var (examples, scores) = KnownCase(gpt2);
        using var model = HellaSwagTestModels.FixedScores(_runner, scores);
        var evaluator = new HellaSwagEvaluator(model, gpt2, [.. examples, .. examples]);
        var whole = evaluator.Evaluate();
        var first = evaluator.Evaluate(shard: 0, shardCount: 2);
        var second = evaluator.Evaluate(shard: 1, shardCount: 2);
        Assert.Equal([0, 2, 4], first.Predictions.Select(p => p.Index));
        Assert.Equal([1, 3, 5], second.Predictions.Select(p => p.Index));
        Assert.Equal(whole.Correct, first.Correct + second.Correct);
        Assert.Equal(whole.CorrectNorm, first.CorrectNorm + second.CorrectNorm);
    }

    [Fact]
    public void AnExampleThatCannotBeTokenizedNamesItsLine()
    {
        string path = _dir.File("h.jsonl");
        File.WriteAllLines(path, [HellaSwagTestModels.Line("abc", ["a", "b", "c", "d"], 0), HellaSwagTestModels.Line("abc", ["a", "b", "Z", "d"], 0)]);
        var tokenizer = CharTokenizer.FromText("abcd ");
        using var model = new GptNetwork(new GptConfig(16, tokenizer.VocabSize, 1, 1, 4), new CpuKernels(_runner));
        var e = Assert.Throws<SharpGptException>(() => new HellaSwagEvaluator(model, tokenizer, HellaSwagExample.Read(path)));
        Assert.Contains($"{path}:2: cannot tokenize it", e.Message);
    }

    [Theory]
    [InlineData("{\"ctx\": \"a\", \"endings\": [\"a\", \"b\", \"c\"], \"label\": 0}", "\"endings\" must be an array of 4 strings")]
    [InlineData("{\"ctx\": \"a\", \"endings\": [\"a\", \"b\", \"c\", 4], \"label\": 0}", "\"endings\" must be an array of 4 strings")]
    [InlineData("{\"ctx\": \"a\", \"endings\": [\"a\", \"b\", \"c\", \"d\"], \"label\": 4}", "\"label\" is 4, expected 0 to 3")]
    [InlineData("{\"ctx\": \"a\", \"endings\": [\"a\", \"b\", \"c\", \"d\"]}", "missing \"label\"")]
    [InlineData("{\"endings\": [\"a\", \"b\", \"c\", \"d\"], \"label\": 1}", "\"ctx\"")]
    [InlineData("{\"ctx\": \"a\",", "not valid JSON")]
    [InlineData("[1]", "not a JSON object")]
    public void ABadLineIsRejectedWithItsLineNumber(string line, string phrase)
    {
        string path = _dir.File("bad.jsonl");
        File.WriteAllLines(path, [HellaSwagTestModels.Line("ok", ["a", "b", "c", "d"], 3), "", line]);
        var e = Assert.Throws<SharpGptException>(() => HellaSwagExample.Read(path));
        Assert.Contains($"{path}:3:", e.Message);
        Assert.Contains(phrase, e.Message);
    }

    [Fact]
    public void ReadsTheRealSchemaWithStringLabelsAndALimit()
    {
        string path = _dir.File("h.jsonl");
        File.WriteAllLines(path, [
            HellaSwagTestModels.Line("one", ["a", "b", "c", "d"], 2),
            "{\"ctx\": \"two\", \"endings\": [\"a\", \"b\", \"c\", \"d\"], \"label\": \"3\"}",
            HellaSwagTestModels.Line("three", ["a", "b", "c", "d"], 0),
        ]);
        var all = HellaSwagExample.Read(path);
        Assert.Equal([2, 3, 0], all.Select(e => e.Label));
        Assert.Equal("two", all[1].Context);
        Assert.Equal(2, HellaSwagExample.Read(path, limit: 2).Count);
    }

    [Fact]
    public void TokenLossesNeedAForwardWithTargets()
    {
        using var model = new GptNetwork(new GptConfig(8, 10, 1, 1, 4), new CpuKernels(_runner));
        Assert.Throws<InvalidOperationException>(() => model.TokenLosses.Length);
        model.Forward([1, 2, 3], [2, -1, 4], 1, 3);
        Assert.Equal(3, model.TokenLosses.Length);
        Assert.Equal(0f, model.TokenLosses[1]);
        Assert.Equal(model.LossSum, model.TokenLosses[0] + (double)model.TokenLosses[2], 5);
        model.Forward([1, 2, 3], [], 1, 3);
        Assert.Throws<InvalidOperationException>(() => model.TokenLosses.Length);
    }
}
