using SharpGpt.Kernels;
using SharpGpt.Tests.Kernels;
using SharpGpt.Training;

namespace SharpGpt.Tests.Model;

public sealed class DeterminismTests
{
    private static (float[] Losses, float[] Weights) Train(int threads, ulong seed)
    {
        var config = TestModels.Tiny;
        using var runner = new ParallelRunner(threads);
        using var model = TestModels.Create(config, runner, seed);
        using var optimizer = new AdamWOptimizer(model, new AdamWSettings());
        var (x, y) = TestModels.Batch(config, 3, 13, maskFraction: 0.2);
        var losses = new float[4];
        for (int step = 0; step < losses.Length; step++)
        {
            model.ZeroGradients();
            losses[step] = model.Forward(x, y, 3, 13);
            model.Backward(1f / model.TargetCount);
            optimizer.Update(1e-3f);
        }

        return (losses, TestModels.Copy(model.Parameters));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SameSeedAndThreadsGiveIdenticalResults(int threads)
    {
        var a = Train(threads, 11);
        var b = Train(threads, 11);
        Assert.Equal(a.Losses, b.Losses);
        Assert.True(a.Weights.AsSpan().SequenceEqual(b.Weights), "weights differ between identical runs");
    }

    [Fact]
    public void DifferentSeedsGiveDifferentWeights()
    {
        var a = Train(2, 11);
        var b = Train(2, 12);
        Assert.False(a.Weights.AsSpan().SequenceEqual(b.Weights));
    }

    [Fact]
    public void InitializationFollowsGpt2()
    {
        var config = TestModels.Tiny;
        using var runner = new ParallelRunner(1);
        using var model = TestModels.Create(config, runner);
        var layout = model.Layout;
        float[] p = TestModels.Copy(model.Parameters);
        double Std(int tensor, long count)
        {
            long o = layout.Offsets[tensor];
            double s = 0;
            for (long i = 0; i < count; i++)
            {
                s += p[o + i] * p[o + i];
            }

            return Math.Sqrt(s / count);
        }

        Assert.InRange(Std(layout.IndexOf("wte"), (long)config.VocabSize * config.Channels), 0.018, 0.022);
        Assert.InRange(Std(layout.IndexOf("fcw"), layout.Sizes[layout.IndexOf("fcw")]), 0.019, 0.021);
        double residual = 0.02 / Math.Sqrt(2 * config.NumLayers);
        Assert.InRange(Std(layout.IndexOf("fcprojw"), layout.Sizes[layout.IndexOf("fcprojw")]), residual * 0.95, residual * 1.05);
        // Padded vocab rows, biases and LayerNorm gains.
        long padStart = layout.Offsets[0] + ((long)config.VocabSize * config.Channels);
        for (long i = padStart; i < layout.Offsets[1]; i++)
        {
            Assert.Equal(0f, p[i]);
        }

        Assert.All(model.Parameters.Slice(layout.Offsets[layout.IndexOf("qkvb")], (int)layout.Sizes[layout.IndexOf("qkvb")]).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(model.Parameters.Slice(layout.Offsets[layout.IndexOf("ln1w")], (int)layout.Sizes[layout.IndexOf("ln1w")]).ToArray(), v => Assert.Equal(1f, v));
    }
}
