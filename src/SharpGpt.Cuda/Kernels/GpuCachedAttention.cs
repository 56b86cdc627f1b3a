using ILGPU;
using ILGPU.Runtime;

namespace SharpGpt.Gpu.Kernels;

/// <summary>
/// Attention for decoding with a key/value cache on the GPU: the new rows' keys and values are
/// appended to the caches, then one warp per (new query, head) scores the cached keys, takes the
/// softmax and sums the values.
/// </summary>
internal sealed unsafe class GpuCachedAttention(GpuDevice device)
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>? _append;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>? _attend;

    /// <summary>Floats of score scratch: a row of maxT per (query, head) of a full-block prefill.</summary>
    public static long ScratchSize(int nh, int maxT) => (long)maxT * nh * maxT;

    // out (N,C), keys (maxT,C) and values (maxT,C) rows start.. <- qkv (N,3C)
    public void Forward(float* output, float* qkv, float* keys, float* values, float* scratch, int start, int n, int c, int nh, int maxT)
    {
        var a = device.Addresses;
        long cache = (long)maxT * c;
        var keyView = a.View<float>(keys, cache);
        var valueView = a.View<float>(values, cache);
        var qkvView = a.View<float>(qkv, 3L * n * c);
        _append ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(AppendKernel);
        _append(device.Elementwise((long)n * c), keyView, valueView, qkvView, start, n, c);
        _attend ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(AttendKernel);
        _attend(device.WarpPerRow((long)n * nh), a.View<float>(output, (long)n * c), qkvView, keyView, valueView,
            a.View<float>(scratch, (long)n * nh * maxT), start, n, c, nh, maxT);
    }

    private static void AppendKernel(ArrayView<float> keys, ArrayView<float> values, ArrayView<float> qkv, int start, int n, int c)
    {
        for (int i = KernelMath.ThreadIndex; i < n * c; i += KernelMath.ThreadCount)
        {
            int r = i / c, column = i - (r * c);
            keys[((start + r) * c) + column] = qkv[(r * 3 * c) + c + column];
            values[((start + r) * c) + column] = qkv[(r * 3 * c) + (2 * c) + column];
        }
    }

    // Warp (r, h): query r (position start + r), head h.
    private static void AttendKernel(ArrayView<float> output, ArrayView<float> qkv, ArrayView<float> keys, ArrayView<float> values,
        ArrayView<float> scores, int start, int n, int c, int nh, int maxT)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize, hs = c / nh;
        float scale = 1f / MathF.Sqrt(hs);
        for (int w = KernelMath.WarpIndex; w < n * nh; w += KernelMath.WarpCount)
        {
            int r = w / nh, h = w - (r * nh), last = start + r;
            int q = (r * 3 * c) + (h * hs), s = w * maxT;
            float max = float.NegativeInfinity;
            for (int j = lane; j <= last; j += width)
            {
                float dot = 0;
                for (int d = 0; d < hs; d++)
                {
                    dot += qkv[q + d] * keys[(j * c) + (h * hs) + d];
                }

                scores[s + j] = dot * scale;
                max = MathF.Max(max, dot * scale);
            }

            max = KernelMath.WarpMax(max);
            float sum = 0;
            for (int j = lane; j <= last; j += width)
            {
                float e = KernelMath.Exp(scores[s + j] - max);
                scores[s + j] = e;
                sum += e;
            }

            float inverse = 1f / KernelMath.WarpSum(sum);

            // Every lane's exponentials must be in scores before any lane sums them.
            Warp.Barrier();
            for (int d = lane; d < hs; d += width)
            {
                float acc = 0;
                for (int j = 0; j <= last; j++)
                {
                    acc += scores[s + j] * values[(j * c) + (h * hs) + d];
                }

                output[(r * c) + (h * hs) + d] = acc * inverse;
            }
        }
    }
}
