using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Kernels;

namespace SharpGpt.Tests.Model;

public sealed unsafe class TiedEmbeddingTests
{
    /// <summary>Sends the lm_head's and the embedding lookup's wte gradients to separate buffers.</summary>
    private sealed class SplittingKernels(IGptKernels inner, float* lmHeadGrad, float* lookupGrad) : ForwardingKernels(inner)
    {
        public override void EncoderBackward(float* dwte, float* dwpe, float* dout, int* inputs, int b, int t, int c)
            => base.EncoderBackward(lookupGrad, dwpe, dout, inputs, b, t, c);

        public override void ClassifierBackward(float* dinp, float* dwte, float* logits, float* lse, int* targets, float dloss, TypedPointer lnf, TypedPointer wte, int rows, int c, int v, int vp)
            => base.ClassifierBackward(dinp, lmHeadGrad, logits, lse, targets, dloss, lnf, wte, rows, c, v, vp);
    }

    [Fact]
    public void WteGradientIsTheSumOfLookupAndLmHeadGradients()
    {
        var config = TestModels.Tiny;
        using var runner = new ParallelRunner(2);
        var (x, y) = TestModels.Batch(config, 2, 9);

        using var tied = TestModels.Create(config, runner);
        tied.Forward(x, y, 2, 9);
        tied.Backward(1f / tied.TargetCount);
        float[] wteGrad = tied.Gradients.Slice(tied.Layout.Offsets[0], (int)tied.Layout.Sizes[0]).ToArray();

        int n = (int)tied.Layout.Sizes[0];
        using var lmHead = new NativeBuffer(n);
        using var lookup = new NativeBuffer(n);
        using var split = TestModels.Create(config, runner, kernels: new SplittingKernels(new CpuKernels(runner), lmHead.Pointer, lookup.Pointer));
        split.Forward(x, y, 2, 9);
        split.Backward(1f / split.TargetCount);

        double lookupNorm = 0, lmHeadNorm = 0;
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(lmHead.Span[i] + lookup.Span[i], wteGrad[i], 6);
            lookupNorm += lookup.Span[i] * lookup.Span[i];
            lmHeadNorm += lmHead.Span[i] * lmHead.Span[i];
        }

        // Both paths really contribute, so a model that dropped either would fail above.
        Assert.True(lookupNorm > 1e-8, "the embedding lookup contributes no gradient");
        Assert.True(lmHeadNorm > 1e-8, "the lm_head contributes no gradient");
        float[] splitWte = split.Gradients.Slice(split.Layout.Offsets[0], n).ToArray();
        Assert.All(splitWte, g => Assert.Equal(0f, g));
    }
}
