using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Tests.Model;

public sealed class ScoreTargetsTests
{
    [Theory]
    [InlineData(0.0, Precision.Fp32)]
    [InlineData(0.7, Precision.Fp32)]
    [InlineData(1.0, Precision.Fp32)]
    [InlineData(0.7, Precision.Bf16)]
    public void GivesTheSameTokenLossesAsAFullForward(double maskFraction, Precision precision)
    {
        using var runner = new ParallelRunner(2);
        using var model = TestModels.Create(TestModels.Tiny, runner);
        model.Precision = precision;
        var (inputs, targets) = TestModels.Batch(TestModels.Tiny, 3, 13, seed: 9, maskFraction);

        float full = model.Forward(inputs, targets, 3, 13);
        float[] expected = model.TokenLosses.ToArray();
        (double sum, int count) = (model.LossSum, model.TargetCount);

        float scored = model.ScoreTargets(inputs, targets, 3, 13);
        float[] actual = model.TokenLosses.ToArray();
        Assert.Equal(count, model.TargetCount);
        Assert.Equal(sum, model.LossSum, 4);
        Assert.Equal(full, scored, 5);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"position {i}: {actual[i]} vs {expected[i]}");
            if (targets[i] < 0)
            {
                Assert.Equal(0f, actual[i]);
            }
        }

        Assert.Throws<InvalidOperationException>(() => model.Backward(1f));

        // A training forward afterwards sees its own targets again.
        Assert.Equal(full, model.Forward(inputs, targets, 3, 13));
        Assert.Equal(expected, model.TokenLosses.ToArray());
    }
}
