using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Model;
using SharpGpt.Training;

namespace SharpGpt.Tests.Training;

public sealed class GradientAccumulationTests
{
    private const int B = 2, T = 9, K = 3;

    /// <summary>K micro-batches of B rows, and the same rows as one batch of K*B.</summary>
    private static (int[][] X, int[][] Y, int[] BigX, int[] BigY) Data(GptConfig config, double maskFraction, bool uneven)
    {
        var (bigX, bigY) = TestModels.Batch(config, K * B, T, seed: 5, maskFraction);
        if (uneven)
        {
            // Mask most of the first micro-batch and none of the last, so per-micro-batch means are badly weighted.
            for (int i = 0; i < B * T; i++)
            {
                bigY[i] = i % 7 == 0 ? bigY[i] : -1;
            }

            var (_, fresh) = TestModels.Batch(config, B, T, seed: 9);
            Array.Copy(fresh, 0, bigY, (K - 1) * B * T, B * T);
        }

        var x = new int[K][];
        var y = new int[K][];
        for (int k = 0; k < K; k++)
        {
            x[k] = bigX[(k * B * T)..((k + 1) * B * T)];
            y[k] = bigY[(k * B * T)..((k + 1) * B * T)];
        }

        return (x, y, bigX, bigY);
    }

    private sealed class Run : IDisposable
    {
        public Run(ParallelRunner runner)
        {
            Model = TestModels.Create(TestModels.Tiny, runner, seed: 21);
            Optimizer = new AdamWOptimizer(Model, new AdamWSettings());
            Clipper = new GradientClipper(Model);
            Step = new GradientAccumulationStep(Model, Optimizer, Clipper, new SingleProcess());
        }

        public GptNetwork Model { get; }

        public AdamWOptimizer Optimizer { get; }

        public GradientClipper Clipper { get; }

        public GradientAccumulationStep Step { get; }

        public void Dispose()
        {
            Optimizer.Dispose();
            Model.Dispose();
        }
    }

    private static void AssertClose(float[] expected, float[] actual, double relative)
    {
        double scale = expected.Max(v => Math.Abs((double)v));
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)expected[i] - actual[i]);
            if (d > worst)
            {
                worst = d;
                at = i;
            }
        }

        Assert.True(worst <= relative * scale, $"max difference {worst:E3} at {at} exceeds {relative} x {scale:E3}");
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.3, false)]
    [InlineData(0.0, true)]
    public void AccumulatedMicroBatchesEqualOneBigBatch(double maskFraction, bool uneven)
    {
        var config = TestModels.Tiny;
        var (x, y, bigX, bigY) = Data(config, maskFraction, uneven);
        using var runner = new ParallelRunner(2);
        using var small = new Run(runner);
        using var big = new Run(runner);

        for (int step = 0; step < 3; step++)
        {
            // Compare the gradient of the mean loss before the first update.
            var a = small.Step.Run(K, B, T, k => (x[k], y[k]), 1e-3f, 1.0f);
            var b = big.Step.Run(1, K * B, T, _ => (bigX, bigY), 1e-3f, 1.0f);
            Assert.Equal(b.TargetTokens, a.TargetTokens);
            Assert.Equal(b.Loss, a.Loss, 5);
            Assert.Equal(b.GradNorm, a.GradNorm, 5);
            if (step == 0)
            {
                AssertClose(TestModels.Copy(big.Model.Gradients), TestModels.Copy(small.Model.Gradients), 1e-5);
            }
        }

        AssertClose(TestModels.Copy(big.Model.Parameters), TestModels.Copy(small.Model.Parameters), 1e-5);
    }

    [Fact]
    public void MeanOfMicroBatchMeansDiffersWhenMasksAreUneven()
    {
        // The wrong normalisation a naive loop would use; the test above must be able to tell it apart.
        var config = TestModels.Tiny;
        var (x, y, bigX, bigY) = Data(config, 0, uneven: true);
        using var runner = new ParallelRunner(2);
        using var model = TestModels.Create(config, runner, seed: 21);
        model.ZeroGradients();
        for (int k = 0; k < K; k++)
        {
            model.Forward(x[k], y[k], B, T);
            model.Backward(1f / model.TargetCount / K);
        }

        float[] meanOfMeans = TestModels.Copy(model.Gradients);
        model.ZeroGradients();
        model.Forward(bigX, bigY, K * B, T);
        model.Backward(1f / model.TargetCount);
        float[] exact = TestModels.Copy(model.Gradients);

        double scale = exact.Max(v => Math.Abs((double)v));
        double worst = exact.Zip(meanOfMeans, (e, m) => Math.Abs((double)e - m)).Max();
        Assert.True(worst > 1e-2 * scale, $"mean-of-means should differ clearly, but max difference is only {worst:E3} (scale {scale:E3})");
    }
}
