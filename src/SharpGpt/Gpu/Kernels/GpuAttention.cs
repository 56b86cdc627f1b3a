using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Gpu.Blas;

namespace SharpGpt.Gpu.Kernels;

/// <summary>
/// Causal self-attention on the GPU as llm.c did before cuDNN: Q, K and V are copied head-major,
/// (B, NH, T, HS); the scores Q·K^T and the output P·V are strided-batched products over the
/// B·NH heads; the scaled causal softmax runs one warp per row. The probabilities P (B, NH, T, T)
/// are the layer's saved state, so the backward needs no recomputation; its products and the
/// softmax's backward run the same way, and dQ, dK, dV are copied back into the (B, T, 3C) rows.
/// </summary>
internal sealed unsafe class GpuAttention(GpuDevice device, GpuWorkspace workspace)
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int>? _rowsToHeads;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int>? _headsToRows;
    private Action<KernelConfig, ArrayView<float>, float, int, int>? _softmaxForward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, float, int, int>? _softmaxBackward;

    private IBlas Blas => device.Blas;

    /// <summary>Floats of saved state per layer: the softmax probabilities.</summary>
    public static long StateSize(int b, int t, int nh) => (long)b * nh * t * t;

    /// <summary>Floats of backward scratch: head-major Q, K, V, dO, dQ, dK, dV and dP.</summary>
    public static long ScratchSize(int b, int t, int c, int nh) => (7L * b * t * c) + StateSize(b, t, nh);

    // out (B,T,C), probabilities (B,NH,T,T) <- qkv (B,T,3C)
    public void Forward(float* output, float* probabilities, float* qkv, int b, int t, int c, int nh)
    {
        int hs = c / nh, heads = b * nh;
        long nc = (long)b * t * c, head = (long)t * hs, square = (long)t * t;
        float* ws = workspace.Get(4 * nc);
        float* q = ws, k = ws + nc, v = ws + (2 * nc), o = ws + (3 * nc);
        RowsToHeads(q, qkv, 3 * c, 0, b, t, c, nh);
        RowsToHeads(k, qkv, 3 * c, c, b, t, c, nh);
        RowsToHeads(v, qkv, 3 * c, 2 * c, b, t, c, nh);

        // S^T (keys x queries, column-major) = K (T x HS, read transposed) · Q^T: S row-major, one per head
        Blas.GemmStridedBatchedEx(BlasOperation.Transpose, BlasOperation.None, t, t, hs, 1f, k, BlasDataType.Float32, hs, head,
            q, BlasDataType.Float32, hs, head, 0f, probabilities, t, square, heads);
        var a = device.Addresses;
        var p = a.View<float>(probabilities, heads * square);
        _softmaxForward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, float, int, int>(SoftmaxForwardKernel);
        _softmaxForward(device.WarpPerRow((long)heads * t), p, 1f / MathF.Sqrt(hs), heads * t, t);

        // O^T (HS x T) = V^T · P^T
        Blas.GemmStridedBatchedEx(BlasOperation.None, BlasOperation.None, hs, t, t, 1f, v, BlasDataType.Float32, hs, head,
            probabilities, BlasDataType.Float32, t, square, 0f, o, hs, head, heads);
        HeadsToRows(output, c, 0, o, b, t, c, nh);
    }

    // dqkv (B,T,3C) = (overwritten) <- dout (B,T,C), qkv, probabilities; scratch of ScratchSize floats
    public void Backward(float* dqkv, float* scratch, float* dout, float* qkv, float* probabilities, int b, int t, int c, int nh)
    {
        int hs = c / nh, heads = b * nh;
        long nc = (long)b * t * c, head = (long)t * hs, square = (long)t * t;
        float* q = scratch, k = q + nc, v = k + nc, dO = v + nc, dq = dO + nc, dk = dq + nc, dv = dk + nc, dp = dv + nc;
        RowsToHeads(q, qkv, 3 * c, 0, b, t, c, nh);
        RowsToHeads(k, qkv, 3 * c, c, b, t, c, nh);
        RowsToHeads(v, qkv, 3 * c, 2 * c, b, t, c, nh);
        RowsToHeads(dO, dout, c, 0, b, t, c, nh);

        // dP^T = V (read transposed) · dO^T; dV^T (HS x T) = dO^T · P
        Blas.GemmStridedBatchedEx(BlasOperation.Transpose, BlasOperation.None, t, t, hs, 1f, v, BlasDataType.Float32, hs, head,
            dO, BlasDataType.Float32, hs, head, 0f, dp, t, square, heads);
        Blas.GemmStridedBatchedEx(BlasOperation.None, BlasOperation.Transpose, hs, t, t, 1f, dO, BlasDataType.Float32, hs, head,
            probabilities, BlasDataType.Float32, t, square, 0f, dv, hs, head, heads);

        var a = device.Addresses;
        _softmaxBackward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, float, int, int>(SoftmaxBackwardKernel);
        _softmaxBackward(device.WarpPerRow((long)heads * t), a.View<float>(dp, heads * square), a.View<float>(probabilities, heads * square),
            1f / MathF.Sqrt(hs), heads * t, t);

        // dQ^T = K^T · dS^T; dK^T = Q^T · dS
        Blas.GemmStridedBatchedEx(BlasOperation.None, BlasOperation.None, hs, t, t, 1f, k, BlasDataType.Float32, hs, head,
            dp, BlasDataType.Float32, t, square, 0f, dq, hs, head, heads);
        Blas.GemmStridedBatchedEx(BlasOperation.None, BlasOperation.Transpose, hs, t, t, 1f, q, BlasDataType.Float32, hs, head,
            dp, BlasDataType.Float32, t, square, 0f, dk, hs, head, heads);
        HeadsToRows(dqkv, 3 * c, 0, dq, b, t, c, nh);
        HeadsToRows(dqkv, 3 * c, c, dk, b, t, c, nh);
        HeadsToRows(dqkv, 3 * c, 2 * c, dv, b, t, c, nh);
    }

    // heads (B,NH,T,HS) <- columns offset..offset+C of rows (B,T,stride)
    private void RowsToHeads(float* heads, float* rows, int stride, int offset, int b, int t, int c, int nh)
    {
        var a = device.Addresses;
        long nc = (long)b * t * c;
        _rowsToHeads ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int, int, int, int>(RowsToHeadsKernel);
        _rowsToHeads(device.Elementwise(nc), a.View<float>(heads, nc), a.View<float>(rows, (long)b * t * stride), stride, offset, b, t, c, nh);
    }

    // columns offset..offset+C of rows (B,T,stride) <- heads (B,NH,T,HS)
    private void HeadsToRows(float* rows, int stride, int offset, float* heads, int b, int t, int c, int nh)
    {
        var a = device.Addresses;
        long nc = (long)b * t * c;
        _headsToRows ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int, int, int, int>(HeadsToRowsKernel);
        _headsToRows(device.Elementwise(nc), a.View<float>(rows, (long)b * t * stride), a.View<float>(heads, nc), stride, offset, b, t, c, nh);
    }

    private static void RowsToHeadsKernel(ArrayView<float> heads, ArrayView<float> rows, int stride, int offset, int b, int t, int c, int nh)
    {
        int hs = c / nh;
        for (int i = KernelMath.ThreadIndex; i < b * t * c; i += KernelMath.ThreadCount)
        {
            // i walks the head-major layout (b, h, t, d), so the writes are coalesced.
            int d = i % hs, rest = i / hs, position = rest % t, bh = rest / t, h = bh % nh, batch = bh / nh;
            heads[i] = rows[(((batch * t) + position) * stride) + offset + (h * hs) + d];
        }
    }

    private static void HeadsToRowsKernel(ArrayView<float> rows, ArrayView<float> heads, int stride, int offset, int b, int t, int c, int nh)
    {
        int hs = c / nh;
        for (int i = KernelMath.ThreadIndex; i < b * t * c; i += KernelMath.ThreadCount)
        {
            // i walks the row layout (b, t, h, d), so the writes are coalesced.
            int column = i % c, row = i / c, h = column / hs, d = column % hs, position = row % t, batch = row / t;
            rows[(row * stride) + offset + column] = heads[(((((batch * nh) + h) * t) + position) * hs) + d];
        }
    }

    // Row r of the (B*NH*T, T) scores is query position r % T: P = softmax(scale * s) over keys 0..r % T, zero after.
    private static void SoftmaxForwardKernel(ArrayView<float> scores, float scale, int rows, int t)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize;
        for (int row = KernelMath.WarpIndex; row < rows; row += KernelMath.WarpCount)
        {
            long o = (long)row * t;
            int last = row % t;
            float max = float.NegativeInfinity;
            for (int j = lane; j <= last; j += width)
            {
                max = MathF.Max(max, scale * scores[o + j]);
            }

            max = KernelMath.WarpMax(max);
            float sum = 0;
            for (int j = lane; j <= last; j += width)
            {
                float e = KernelMath.Exp((scale * scores[o + j]) - max);
                scores[o + j] = e;
                sum += e;
            }

            float inverse = 1f / KernelMath.WarpSum(sum);
            for (int j = lane; j < t; j += width)
            {
                scores[o + j] = j <= last ? scores[o + j] * inverse : 0f;
            }
        }
    }

    // dS = P * (dP - sum(P * dP)) * scale, in place over dP; zero above the diagonal.
    private static void SoftmaxBackwardKernel(ArrayView<float> dp, ArrayView<float> probabilities, float scale, int rows, int t)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize;
        for (int row = KernelMath.WarpIndex; row < rows; row += KernelMath.WarpCount)
        {
            long o = (long)row * t;
            int last = row % t;
            float dot = 0;
            for (int j = lane; j <= last; j += width)
            {
                dot += probabilities[o + j] * dp[o + j];
            }

            dot = KernelMath.WarpSum(dot);
            for (int j = lane; j < t; j += width)
            {
                dp[o + j] = j <= last ? probabilities[o + j] * (dp[o + j] - dot) * scale : 0f;
            }
        }
    }
}
