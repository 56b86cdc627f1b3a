using SharpGpt.Kernels;
using SharpGpt.Tests.Kernels;
using SharpGpt.Training;

namespace SharpGpt.Tests.Distributed;

/// <summary>
/// Data parallelism across real processes: mpirun -np 2 on the built CLI, compared with one
/// process doing twice the accumulation over the same data.
/// </summary>
[Collection(MpiCollection.Name)]
public sealed class DataParallelTests(DataParallelRuns runs) : IClassFixture<DataParallelRuns>
{
    private const double Tolerance = 1e-5;

    [MpiFact]
    public void TwoRanksMatchOneProcessWithTwiceTheAccumulation()
    {
        var (two, twoOut) = runs.TwoRanks;
        string oneOut = runs.OutDir("one-process");
        var one = MpiJob.RunSingle(runs.Train(oneOut, DataParallelRuns.Steps)).Succeeded();

        Assert.Contains("2 x 16 tokens x 2 rank(s) x 2 accumulation step(s) = 128 tokens/step", two.Output);
        Assert.Contains("2 x 16 tokens x 1 rank(s) x 4 accumulation step(s) = 128 tokens/step", one.Output);
        Assert.Contains("2 ranks start from identical weights", two.Output);
        // Rank 1 stays quiet: every line is printed once.
        Assert.Single(two.Output.Split('\n'), line => line.StartsWith("step     1/6 |", StringComparison.Ordinal));

        AssertSameLosses(oneOut, twoOut);
        AssertSameWeights(TrainingCheckpoint.PathFor(oneOut, DataParallelRuns.Steps), TrainingCheckpoint.PathFor(twoOut, DataParallelRuns.Steps), moments: true);
    }

    [MpiFact]
    public void ZeroOneMatchesPlainDataParallelismAndResumes()
    {
        var (_, plainOut) = runs.TwoRanks;
        string zeroOut = runs.OutDir("zero");
        var first = MpiJob.Run(2, runs.Train(zeroOut, 3, "--zero", "1")).Succeeded();
        Assert.Contains("ZeRO-1: AdamW moments sharded over 2 rank(s)", first.Output);
        Assert.Contains("saved per rank", first.Output);

        // The moments gathered into the checkpoint are the full ones plain data parallelism holds.
        AssertSameWeights(TrainingCheckpoint.PathFor(plainOut, 3), TrainingCheckpoint.PathFor(zeroOut, 3), moments: true);

        // Each rank reads its shard back from the full moments and training goes on the same way.
        var second = MpiJob.Run(2, runs.Train(zeroOut, DataParallelRuns.Steps, "--zero", "1", "--resume")).Succeeded();
        Assert.Contains("resuming from", second.Output);
        AssertSameLosses(plainOut, zeroOut);
        AssertSameWeights(TrainingCheckpoint.PathFor(plainOut, DataParallelRuns.Steps), TrainingCheckpoint.PathFor(zeroOut, DataParallelRuns.Steps), moments: true);
    }

    [MpiFact]
    public void ResumingWithAnotherNumberOfRanksSaysSo()
    {
        var (_, twoOut) = runs.TwoRanks;
        string output = runs.OutDir("resume-one");
        Directory.CreateDirectory(output);
        string checkpoint = TrainingCheckpoint.PathFor(twoOut, DataParallelRuns.Steps);
        File.Copy(checkpoint, Path.Combine(output, Path.GetFileName(checkpoint)));

        var run = MpiJob.RunSingle(runs.Train(output, 8, "--resume"));
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("ranks 2 in the checkpoint, 1 now (resume needs the same number of ranks)", run.Output);
    }

    [MpiFact]
    public void AFailingRankEndsTheWholeJob()
    {
        string output = runs.OutDir("failing");
        string missing = runs.OutDir("no-such-data");
        string[] rank1 = runs.Train(output, DataParallelRuns.Steps);
        rank1[Array.IndexOf(rank1, "--data") + 1] = missing;

        // Rank 0 starts normally and waits for rank 1 in its first collective; rank 1 fails.
        var run = MpiJob.RunEach(runs.Train(output, DataParallelRuns.Steps), rank1);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("sharpgpt train: rank 1 of 2: ", run.Output);
        Assert.DoesNotContain("   at ", run.Output);
        Assert.Contains(missing, run.Output);
        Assert.False(Directory.Exists(output) && Directory.GetFiles(output, "*.sgpt*").Length > 0, "no checkpoint may be written");
    }

    [MpiFact]
    public void RanksThatStartFromDifferentWeightsAreRefused()
    {
        string output = runs.OutDir("seeds");
        var run = MpiJob.RunEach(runs.Train(output, DataParallelRuns.Steps, "--seed", "1"), runs.Train(output, DataParallelRuns.Steps, "--seed", "2"));
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("The weights at the start differ between ranks: 1 of 2 rank(s) disagree with rank 0", run.Output);
    }

    private static void AssertSameLosses(string expectedOut, string actualOut)
    {
        var expected = MetricsLog.Read(Path.Combine(expectedOut, "metrics.jsonl"));
        var actual = MetricsLog.Read(Path.Combine(actualOut, "metrics.jsonl"));
        Assert.Equal(Enumerable.Range(1, DataParallelRuns.Steps), expected.Select(m => m.Step));
        Assert.Equal(expected.Select(m => m.Step), actual.Select(m => m.Step));
        for (int i = 0; i < expected.Count; i++)
        {
            double e = expected[i].Loss, a = actual[i].Loss;
            Assert.True(Math.Abs(e - a) <= Tolerance * Math.Abs(e), $"step {expected[i].Step}: loss {a} differs from {e} by more than {Tolerance} relative");
        }
    }

    private static void AssertSameWeights(string expectedPath, string actualPath, bool moments)
    {
        using var runner = new ParallelRunner(1);
        var (expected, expectedMoments) = Load(expectedPath, runner);
        var (actual, actualMoments) = Load(actualPath, runner);
        AssertClose("weights", expected, actual);
        if (moments)
        {
            AssertClose("first moments", expectedMoments.M, actualMoments.M);
            AssertClose("second moments", expectedMoments.V, actualMoments.V);
        }
    }

    private static (float[] Weights, (float[] M, float[] V) Moments) Load(string path, ParallelRunner runner)
    {
        var (model, _) = TrainingCheckpoint.LoadModel(path, new CpuKernels(runner));
        using (model)
        {
            using var optimizer = new AdamWOptimizer(model, new AdamWSettings());
            TrainingCheckpoint.Restore(path, model, optimizer);
            return (model.Parameters.Span.ToArray(), (optimizer.M.Span.ToArray(), optimizer.V.Span.ToArray()));
        }
    }

    private static void AssertClose(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v));
        int worst = 0;
        for (int i = 1; i < expected.Length; i++)
        {
            if (Math.Abs((double)expected[i] - actual[i]) > Math.Abs((double)expected[worst] - actual[worst]))
            {
                worst = i;
            }
        }

        double difference = Math.Abs((double)expected[worst] - actual[worst]);
        Assert.True(difference <= Tolerance * scale, $"{what}: max difference {difference:E3} at {worst} ({expected[worst]} vs {actual[worst]}) exceeds {Tolerance} x {scale:E3}");
    }
}
