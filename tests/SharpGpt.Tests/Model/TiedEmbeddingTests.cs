using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Tests.Model;

public sealed unsafe class TiedEmbeddingTests
{
    /// <summary>Sends the lm_head's and the embedding lookup's wte gradients to separate buffers.</summary>
    private sealed class SplittingKernels(IGptKernels inner, float* lmHeadGrad, float* lookupGrad) : IGptKernels
    {
        public ParallelRunner Runner => inner.Runner;

        public void EncoderForward(float* o, int* i, float* wte, float* wpe, int b, int t, int c) => inner.EncoderForward(o, i, wte, wpe, b, t, c);

        public void EncoderBackward(float* dwte, float* dwpe, float* dout, int* inputs, int b, int t, int c) => inner.EncoderBackward(lookupGrad, dwpe, dout, inputs, b, t, c);

        public void LayerNormForward(TypedPointer o, float* m, float* r, float* i, float* w, float* bias, int rows, int c) => inner.LayerNormForward(o, m, r, i, w, bias, rows, c);

        public void LayerNormBackward(float* di, float* dw, float* db, float* d, float* i, float* w, float* m, float* r, int rows, int c) => inner.LayerNormBackward(di, dw, db, d, i, w, m, r, rows, c);

        public void MatmulForward(float* o, TypedPointer i, TypedPointer w, float* bias, int rows, int c, int oc) => inner.MatmulForward(o, i, w, bias, rows, c, oc);

        public void MatmulBackward(float* di, float* dw, float* db, float* d, TypedPointer i, TypedPointer w, int rows, int c, int oc)
            => inner.MatmulBackward(di, db == null ? lmHeadGrad : dw, db, d, i, w, rows, c, oc);

        public long AttentionStateSize(int b, int t, int nh) => inner.AttentionStateSize(b, t, nh);

        public long AttentionScratchSize(int b, int t, int c, int nh) => inner.AttentionScratchSize(b, t, c, nh);

        public void AttentionForward(float* o, float* s, float* qkv, int b, int t, int c, int nh) => inner.AttentionForward(o, s, qkv, b, t, c, nh);

        public void AttentionBackward(float* dqkv, float* scratch, float* d, float* qkv, float* o, float* s, int b, int t, int c, int nh) => inner.AttentionBackward(dqkv, scratch, d, qkv, o, s, b, t, c, nh);

        public void GeluForward(TypedPointer o, float* i, long n) => inner.GeluForward(o, i, n);

        public void GeluBackward(float* di, float* i, float* d, long n) => inner.GeluBackward(di, i, d, n);

        public void ResidualForward(float* o, float* a, float* b, long n) => inner.ResidualForward(o, a, b, n);

        public void CrossEntropyForward(float* l, float* lse, float* logits, int* t, int rows, int v, int vp) => inner.CrossEntropyForward(l, lse, logits, t, rows, v, vp);

        public void CrossEntropyBackward(float* logits, float* lse, int* t, float d, int rows, int v, int vp) => inner.CrossEntropyBackward(logits, lse, t, d, rows, v, vp);

        public void Convert(TypedPointer o, TypedPointer i, long n) => inner.Convert(o, i, n);
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
