using ILGPU;
using ILGPU.Runtime;

namespace SharpGpt.Gpu.Kernels;

/// <summary>Token + position embedding on the GPU: out[b,t,:] = wte[ids[b,t],:] + wpe[t,:], and its backward.</summary>
internal sealed unsafe class GpuEncoder(GpuDevice device)
{
    /// <summary>Vocabulary buckets of the wte gradient: thread (bucket, channel) owns the rows of the
    /// tokens in its bucket, so repeated tokens are summed without atomics, in position order.</summary>
    private const int Buckets = 64;

    private Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>? _forward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>? _backwardWte;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int>? _backwardWpe;

    // (N,C) <- ids (N), wte (Vp,C), wpe (maxT,C)
    public void Forward(float* output, int* inputs, float* wte, float* wpe, int b, int t, int c)
    {
        var a = device.Addresses;
        int n = b * t;
        _forward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>(ForwardKernel);
        _forward(device.Elementwise((long)n * c), a.View<float>(output, (long)n * c), a.View<int>(inputs, n),
            a.ViewToEnd<float>(wte), a.View<float>(wpe, (long)t * c), t, c);
    }

    // dwte (Vp,C) +=, dwpe (maxT,C) += <- dout (N,C), ids (N)
    public void Backward(float* dwte, float* dwpe, float* dout, int* inputs, int b, int t, int c)
    {
        var a = device.Addresses;
        int n = b * t;
        var doutView = a.View<float>(dout, (long)n * c);
        _backwardWte ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>(BackwardWteKernel);
        _backwardWte(device.Elementwise((long)Buckets * c), a.ViewToEnd<float>(dwte), doutView, a.View<int>(inputs, n), n, c, Buckets);
        _backwardWpe ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int>(BackwardWpeKernel);
        _backwardWpe(device.Elementwise((long)t * c), a.View<float>(dwpe, (long)t * c), doutView, b, t, c);
    }

    private static void ForwardKernel(ArrayView<float> output, ArrayView<int> inputs, ArrayView<float> wte, ArrayView<float> wpe, int t, int c)
    {
        int total = (int)output.Length;
        for (int i = KernelMath.ThreadIndex; i < total; i += KernelMath.ThreadCount)
        {
            int row = i / c, column = i - (row * c);
            output[i] = wte[(inputs[row] * c) + column] + wpe[((row % t) * c) + column];
        }
    }

    // Thread (bucket, column) adds the rows of every position whose token falls in its bucket, in
    // position order: each dwte element has one writer and the CPU kernel's order of additions.
    private static void BackwardWteKernel(ArrayView<float> dwte, ArrayView<float> dout, ArrayView<int> inputs, int n, int c, int buckets)
    {
        for (int i = KernelMath.ThreadIndex; i < buckets * c; i += KernelMath.ThreadCount)
        {
            int bucket = i / c, column = i - (bucket * c);
            for (int r = 0; r < n; r++)
            {
                int token = inputs[r];
                if (token % buckets == bucket)
                {
                    dwte[(token * c) + column] += dout[(r * c) + column];
                }
            }
        }
    }

    // Thread (position, column) sums its column over the batch, in batch order.
    private static void BackwardWpeKernel(ArrayView<float> dwpe, ArrayView<float> dout, int b, int t, int c)
    {
        for (int i = KernelMath.ThreadIndex; i < t * c; i += KernelMath.ThreadCount)
        {
            float sum = dwpe[i];
            for (int s = 0; s < b; s++)
            {
                sum += dout[(s * t * c) + i];
            }

            dwpe[i] = sum;
        }
    }
}
