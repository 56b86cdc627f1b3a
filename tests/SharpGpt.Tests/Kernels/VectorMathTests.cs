using System.Numerics;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

public sealed class VectorMathTests
{
    /// <summary>Every lane, over the whole normal range in small steps, against e^x in double.</summary>
    [Fact]
    public void Exp_IsWithinTwoUlpOverTheNormalRange()
    {
        int w = Vector<float>.Count;
        var x = new float[w];
        double worst = 0;
        float worstAt = 0;
        for (float start = VectorMath.ExpMinArgument; start < 88.3f; start += 0.0037f * w)
        {
            for (int i = 0; i < w; i++)
            {
                x[i] = Math.Min(88.3f, start + (0.0037f * i));
            }

            var e = VectorMath.Exp(new Vector<float>(x));
            for (int i = 0; i < w; i++)
            {
                double expected = Math.Exp(x[i]);
                double ulp = (double)MathF.BitIncrement((float)expected) - (float)expected;
                double err = Math.Abs(e[i] - expected) / ulp;
                if (err > worst)
                {
                    worst = err;
                    worstAt = x[i];
                }
            }
        }

        Assert.True(worst <= 2, $"worst error {worst:F2} ulp at x = {worstAt:G9}");
    }

    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(float.NegativeInfinity, 0f)]
    [InlineData(-1000f, 0f)]
    [InlineData(-87.5f, 0f)]
    [InlineData(89f, float.PositiveInfinity)]
    [InlineData(float.PositiveInfinity, float.PositiveInfinity)]
    public void Exp_SpecialValues(float x, float expected)
    {
        Assert.Equal(expected, VectorMath.Exp(new Vector<float>(x))[0]);
    }

    [Fact]
    public void Exp_PropagatesNaN()
    {
        Assert.True(float.IsNaN(VectorMath.Exp(new Vector<float>(float.NaN))[0]));
    }
}
