using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Gpu.Blas;
using SharpGpt.Model;

namespace SharpGpt.Gpu.Kernels;

/// <summary>
/// Causal self-attention on the GPU as llm.c did before cuDNN: Q, K and V are copied head-major,
/// (B, NH, T, HS); the scores Q·K^T and the output P·V are strided-batched products over the
/// B·NH heads; the scaled causal softmax runs one warp per row. The probabilities P (B, NH, T, T)
/// are the layer's saved state, so the backward needs no recomputation; its products and the
/// softmax's backward run the same way, and dQ, dK, dV are copied back into the (B, T, 3C) rows.
/// For a bf16 model the products' operands (Q, K, V, P, dO, dS) are bf16, so they run on tensor
/// cores and P takes half the memory; scores and gradients stay fp32, as in the other matmuls.
/// The mask is causal, so the T x T matrices are computed in blocks of query rows: the block of
/// queries q0..q1 needs keys 0..q1 only, and the products over keys (dV, dK) need only the queries
/// from their block on. With 8 blocks the products compute and the kernels write 56% of the full
/// squares; inside a block the softmax writes zeros above the diagonal, and nothing reads past it.
/// </summary>
internal sealed unsafe class GpuAttention(GpuDevice device, GpuWorkspace workspace)
{
    /// <summary>Workspace regions start at multiples of this many floats (256 bytes).</summary>
    private const long Alignment = 64;

    private Action<KernelConfig, ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, int, int, int, int, int, int>? _rowsToHeads;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int>? _headsToRows;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, int, float, int, int, int>? _softmaxForward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>, int, float, int, int, int>? _softmaxBackward;

    private IBlas Blas => device.Blas;

    /// <summary>Floats of saved state per layer: the softmax probabilities (bf16 for a bf16 model).</summary>
    public static long StateSize(int b, int t, int nh, Precision precision) => Floats(Scores(b, t, nh), precision);

    /// <summary>Floats of backward scratch: head-major Q, K, V and dO, dQ, dK, dV, dP, and (bf16) dS.</summary>
    public static long ScratchSize(int b, int t, int c, int nh, Precision precision)
    {
        long nc = (long)b * t * c;
        return (4 * Align(Floats(nc, precision))) + (3 * Align(nc)) + Align(Scores(b, t, nh)) + (precision == Precision.Bf16 ? Align(Floats(Scores(b, t, nh), precision)) : 0);
    }

    /// <summary>Floats of workspace the forward takes: head-major Q, K, V, the output, and (bf16) the fp32 scores.</summary>
    public static long ForwardWorkspace(int b, int t, int c, int nh, Precision precision)
    {
        long nc = (long)b * t * c;
        return (3 * Align(Floats(nc, precision))) + Align(nc) + (precision == Precision.Bf16 ? Align(Scores(b, t, nh)) : 0);
    }

    /// <summary>Query rows per causal block: an eighth of T in multiples of 64 for long sequences, all of T
    /// for short ones (where more, smaller products would cost more launches than they save); 8 on
    /// the emulated device, so that its tests cover the blocks at any T.</summary>
    internal int BlockRows(int t) => device.IsEmulated ? Math.Min(t, 8) : t >= 256 ? (int)Math.Min(t, (((t + 7) / 8) + 63) / 64 * 64) : t;

    // out (B,T,C), probabilities (B,NH,T,T) <- qkv (B,T,3C)
    public void Forward(float* output, float* probabilities, float* qkv, int b, int t, int c, int nh, Precision precision)
    {
        int hs = c / nh, heads = b * nh;
        long nc = (long)b * t * c, head = (long)t * hs, square = (long)t * t;
        bool bf16 = precision == Precision.Bf16;
        var type = bf16 ? BlasDataType.BFloat16 : BlasDataType.Float32;
        long operand = Align(Floats(nc, precision));
        float* ws = workspace.Get(ForwardWorkspace(b, t, c, nh, precision));
        float* q = ws, k = q + operand, v = k + operand, o = v + operand;
        // fp32: the softmax runs in place in the state; bf16: it reads fp32 scores and writes bf16 probabilities.
        float* scores = bf16 ? o + Align(nc) : probabilities;
        RowsToHeads(q, qkv, 3 * c, 0, b, t, c, nh, bf16);
        RowsToHeads(k, qkv, 3 * c, c, b, t, c, nh, bf16);
        RowsToHeads(v, qkv, 3 * c, 2 * c, b, t, c, nh, bf16);

        int blockRows = BlockRows(t);
        long s = Size(precision);
        for (int q0 = 0; q0 < t; q0 += blockRows)
        {
            int q1 = Math.Min(t, q0 + blockRows);
            // S^T (keys 0..q1 x queries q0..q1, column-major) = K (read transposed) · Q^T: S row-major, one per head
            Blas.GemmStridedBatchedEx(BlasOperation.Transpose, BlasOperation.None, q1, q1 - q0, hs, 1f, k, type, hs, head,
                At(q, (long)q0 * hs, s), type, hs, head, 0f, scores + ((long)q0 * t), t, square, heads);
        }

        var a = device.Addresses;
        long all = heads * square;
        _softmaxForward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<ushort>, int, float, int, int, int>(SoftmaxForwardKernel);
        _softmaxForward(device.WarpPerRow((long)heads * t), a.View<float>(scores, all),
            bf16 ? ArrayView<float>.Empty : a.View<float>(probabilities, all), bf16 ? a.View<ushort>(probabilities, all) : ArrayView<ushort>.Empty, bf16 ? 1 : 0,
            1f / MathF.Sqrt(hs), heads * t, t, blockRows);

        for (int q0 = 0; q0 < t; q0 += blockRows)
        {
            int q1 = Math.Min(t, q0 + blockRows);
            // O^T (HS x queries q0..q1) = V^T (keys 0..q1) · P^T
            Blas.GemmStridedBatchedEx(BlasOperation.None, BlasOperation.None, hs, q1 - q0, q1, 1f, v, type, hs, head,
                At(probabilities, (long)q0 * t, s), type, t, square, 0f, o + ((long)q0 * hs), hs, head, heads);
        }

        HeadsToRows(output, c, 0, o, b, t, c, nh);
    }

    // dqkv (B,T,3C) = (overwritten) <- dout (B,T,C), qkv, probabilities; scratch of ScratchSize floats
    public void Backward(float* dqkv, float* scratch, float* dout, float* qkv, float* probabilities, int b, int t, int c, int nh, Precision precision)
    {
        int hs = c / nh, heads = b * nh;
        long nc = (long)b * t * c, head = (long)t * hs, square = (long)t * t, all = heads * square;
        bool bf16 = precision == Precision.Bf16;
        var type = bf16 ? BlasDataType.BFloat16 : BlasDataType.Float32;
        long operand = Align(Floats(nc, precision));
        float* q = scratch, k = q + operand, v = k + operand, dO = v + operand;
        float* dq = dO + operand, dk = dq + Align(nc), dv = dk + Align(nc), dp = dv + Align(nc);
        // fp32: dS overwrites dP; bf16: it is written, rounded, beside it for the products to read.
        float* ds = bf16 ? dp + Align(all) : dp;
        RowsToHeads(q, qkv, 3 * c, 0, b, t, c, nh, bf16);
        RowsToHeads(k, qkv, 3 * c, c, b, t, c, nh, bf16);
        RowsToHeads(v, qkv, 3 * c, 2 * c, b, t, c, nh, bf16);
        RowsToHeads(dO, dout, c, 0, b, t, c, nh, bf16);

        int blockRows = BlockRows(t);
        long s = Size(precision);
        for (int b0 = 0; b0 < t; b0 += blockRows)
        {
            int b1 = Math.Min(t, b0 + blockRows);
            // dP^T (keys 0..b1 x queries b0..b1) = V (read transposed) · dO^T
            Blas.GemmStridedBatchedEx(BlasOperation.Transpose, BlasOperation.None, b1, b1 - b0, hs, 1f, v, type, hs, head,
                At(dO, (long)b0 * hs, s), type, hs, head, 0f, dp + ((long)b0 * t), t, square, heads);
            // dV^T (HS x keys b0..b1) = dO^T (queries b0..T) · P (queries b0..T x keys b0..b1)
            Blas.GemmStridedBatchedEx(BlasOperation.None, BlasOperation.Transpose, hs, b1 - b0, t - b0, 1f, At(dO, (long)b0 * hs, s), type, hs, head,
                At(probabilities, ((long)b0 * t) + b0, s), type, t, square, 0f, dv + ((long)b0 * hs), hs, head, heads);
        }

        var a = device.Addresses;
        _softmaxBackward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>, int, float, int, int, int>(SoftmaxBackwardKernel);
        _softmaxBackward(device.WarpPerRow((long)heads * t), a.View<float>(dp, all),
            bf16 ? ArrayView<float>.Empty : a.View<float>(probabilities, all), bf16 ? a.View<ushort>(probabilities, all) : ArrayView<ushort>.Empty,
            bf16 ? ArrayView<float>.Empty : a.View<float>(ds, all), bf16 ? a.View<ushort>(ds, all) : ArrayView<ushort>.Empty, bf16 ? 1 : 0,
            1f / MathF.Sqrt(hs), heads * t, t, blockRows);

        for (int b0 = 0; b0 < t; b0 += blockRows)
        {
            int b1 = Math.Min(t, b0 + blockRows);
            // dQ^T (HS x queries b0..b1) = K^T (keys 0..b1) · dS^T
            Blas.GemmStridedBatchedEx(BlasOperation.None, BlasOperation.None, hs, b1 - b0, b1, 1f, k, type, hs, head,
                At(ds, (long)b0 * t, s), type, t, square, 0f, dq + ((long)b0 * hs), hs, head, heads);
            // dK^T (HS x keys b0..b1) = Q^T (queries b0..T) · dS (queries b0..T x keys b0..b1)
            Blas.GemmStridedBatchedEx(BlasOperation.None, BlasOperation.Transpose, hs, b1 - b0, t - b0, 1f, At(q, (long)b0 * hs, s), type, hs, head,
                At(ds, ((long)b0 * t) + b0, s), type, t, square, 0f, dk + ((long)b0 * hs), hs, head, heads);
        }
        HeadsToRows(dqkv, 3 * c, 0, dq, b, t, c, nh);
        HeadsToRows(dqkv, 3 * c, c, dk, b, t, c, nh);
        HeadsToRows(dqkv, 3 * c, 2 * c, dv, b, t, c, nh);
    }

    private static long Scores(int b, int t, int nh) => (long)b * nh * t * t;

    // Bytes of one operand element of the precision, and the address offset elements into an operand.
    private static long Size(Precision precision) => precision == Precision.Bf16 ? sizeof(ushort) : sizeof(float);

    private static float* At(float* operand, long offset, long size) => (float*)((byte*)operand + (offset * size));

    // Floats that hold n elements of the precision's operands.
    private static long Floats(long n, Precision precision) => precision == Precision.Bf16 ? (n + 1) / 2 : n;

    private static long Align(long floats) => (floats + Alignment - 1) / Alignment * Alignment;

    // heads (B,NH,T,HS), fp32 or rounded to bf16 <- columns offset..offset+C of rows (B,T,stride)
    private void RowsToHeads(float* heads, float* rows, int stride, int offset, int b, int t, int c, int nh, bool bf16)
    {
        var a = device.Addresses;
        long nc = (long)b * t * c;
        _rowsToHeads ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, int, int, int, int, int, int>(RowsToHeadsKernel);
        _rowsToHeads(device.Elementwise(nc), bf16 ? ArrayView<float>.Empty : a.View<float>(heads, nc), bf16 ? a.View<ushort>(heads, nc) : ArrayView<ushort>.Empty, bf16 ? 1 : 0,
            a.View<float>(rows, (long)b * t * stride), stride, offset, b, t, c, nh);
    }

    // columns offset..offset+C of rows (B,T,stride) <- heads (B,NH,T,HS)
    private void HeadsToRows(float* rows, int stride, int offset, float* heads, int b, int t, int c, int nh)
    {
        var a = device.Addresses;
        long nc = (long)b * t * c;
        _headsToRows ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int, int, int, int>(HeadsToRowsKernel);
        _headsToRows(device.Elementwise(nc), a.View<float>(rows, (long)b * t * stride), a.View<float>(heads, nc), stride, offset, b, t, c, nh);
    }

    private static void RowsToHeadsKernel(ArrayView<float> heads32, ArrayView<ushort> heads16, int bf16, ArrayView<float> rows, int stride, int offset, int b, int t, int c, int nh)
    {
        int hs = c / nh;
        for (int i = KernelMath.ThreadIndex; i < b * t * c; i += KernelMath.ThreadCount)
        {
            // i walks the head-major layout (b, h, t, d), so the writes are coalesced.
            int d = i % hs, rest = i / hs, position = rest % t, bh = rest / t, h = bh % nh, batch = bh / nh;
            float x = rows[(((batch * t) + position) * stride) + offset + (h * hs) + d];
            if (bf16 != 0)
            {
                heads16[i] = KernelMath.ToBf16(x);
            }
            else
            {
                heads32[i] = x;
            }
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

    // Row r of the (B*NH*T, T) scores is query position r % T: P = softmax(scale * s) over keys 0..r % T, then
    // zeros to the end of the row's causal block (what the products read); written fp32 (possibly over
    // the scores) or bf16. One pass finds the maximum and the sum together (each lane rescales its sum
    // when its maximum grows), a second writes.
    private static void SoftmaxForwardKernel(ArrayView<float> scores, ArrayView<float> p32, ArrayView<ushort> p16, int bf16, float scale, int rows, int t, int blockRows)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize;
        for (int row = KernelMath.WarpIndex; row < rows; row += KernelMath.WarpCount)
        {
            long o = (long)row * t;
            int last = row % t, end = Math.Min(t, ((last / blockRows) + 1) * blockRows);
            var lanes = RunningExpSum.Empty;
            for (int j = lane; j <= last; j += width)
            {
                lanes = lanes.Add(scale * scores[o + j]);
            }

            var total = lanes.WarpTotal();
            float rowMax = total.Max, inverse = 1f / total.Sum;
            for (int j = lane; j < end; j += width)
            {
                float p = j <= last ? KernelMath.Exp((scale * scores[o + j]) - rowMax) * inverse : 0f;
                if (bf16 != 0)
                {
                    p16[o + j] = KernelMath.ToBf16(p);
                }
                else
                {
                    p32[o + j] = p;
                }
            }
        }
    }

    // dS = P * (dP - sum(P * dP)) * scale over keys 0..r % T, then zeros to the end of the row's causal
    // block; fp32 (possibly over dP) or bf16. dP and P are read on and below the diagonal only.
    private static void SoftmaxBackwardKernel(ArrayView<float> dp, ArrayView<float> p32, ArrayView<ushort> p16, ArrayView<float> ds32, ArrayView<ushort> ds16,
        int bf16, float scale, int rows, int t, int blockRows)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize;
        for (int row = KernelMath.WarpIndex; row < rows; row += KernelMath.WarpCount)
        {
            long o = (long)row * t;
            int last = row % t, end = Math.Min(t, ((last / blockRows) + 1) * blockRows);
            float dot = 0;
            for (int j = lane; j <= last; j += width)
            {
                dot += (bf16 != 0 ? KernelMath.FromBf16(p16[o + j]) : p32[o + j]) * dp[o + j];
            }

            dot = KernelMath.WarpSum(dot);
            for (int j = lane; j < end; j += width)
            {
                float ds = 0f;
                if (j <= last)
                {
                    float p = bf16 != 0 ? KernelMath.FromBf16(p16[o + j]) : p32[o + j];
                    ds = p * (dp[o + j] - dot) * scale;
                }

                if (bf16 != 0)
                {
                    ds16[o + j] = KernelMath.ToBf16(ds);
                }
                else
                {
                    ds32[o + j] = ds;
                }
            }
        }
    }
}
