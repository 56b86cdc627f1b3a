using System.Buffers;
using System.Numerics;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Blas;

/// <summary>
/// cuBLAS's GEMM semantics computed on the host, over the emulated device's memory: column-major
/// operands, transposes, leading dimensions, batch strides, alpha and beta, fp32 or bf16 inputs
/// summed in fp32. It checks its arguments as cuBLAS does (and that every operand lies inside one
/// device allocation), so a transposition, leading-dimension or stride mistake in the backend fails
/// on a machine without a GPU. It emulates cuBLASLt's bias and GELU epilogues; with
/// <paramref name="epilogues"/> off it declines them, as a cuBLAS without cuBLASLt does, so the
/// backend's own kernels for them are tested too.
/// </summary>
internal sealed unsafe class EmulatedBlas(GpuDevice device, bool epilogues) : IBlas
{
    public string Name => $"emulated BLAS (host, fp32 sums; epilogues {(epilogues ? "on" : "off")})";

    public string EpilogueReport => $"epilogues: {(epilogues ? "emulated" : "off")}";

    public void GemmEx(BlasOperation transA, BlasOperation transB, int m, int n, int k, float alpha,
        void* a, BlasDataType aType, int lda, void* b, BlasDataType bType, int ldb, float beta, float* c, int ldc) =>
        GemmStridedBatchedEx(transA, transB, m, n, k, alpha, a, aType, lda, 0, b, bType, ldb, 0, beta, c, ldc, 0, 1);

    public void GemmStridedBatchedEx(BlasOperation transA, BlasOperation transB, int m, int n, int k, float alpha,
        void* a, BlasDataType aType, int lda, long strideA, void* b, BlasDataType bType, int ldb, long strideB,
        float beta, float* c, int ldc, long strideC, int batchCount)
    {
        Validate(transA, transB, m, n, k, aType, lda, strideA, bType, ldb, strideB, ldc, strideC, batchCount);
        if (m == 0 || n == 0 || batchCount == 0)
        {
            return;
        }

        float* hostC = (float*)device.Addresses.HostAddress(c, Span(((long)(n - 1) * ldc) + m, strideC, batchCount) * sizeof(float));
        Compute(transA, transB, m, n, k, alpha, a, aType, lda, strideA, b, ldb, strideB, beta, hostC, ldc, strideC, batchCount);
    }

    public bool TryGemmEpilogue(BlasEpilogue epilogue, BlasOperation transA, BlasOperation transB, int m, int n, int k,
        void* a, BlasDataType abType, int lda, void* b, int ldb, void* d, BlasDataType dType, int ldd, float* bias, void* aux, int ldAux)
    {
        if (!epilogues)
        {
            return false;
        }

        bool gelu = epilogue == BlasEpilogue.GeluAuxBias;
        if (gelu && ldAux < m)
        {
            throw new ArgumentException($"GEMM epilogue: CUBLAS_STATUS_INVALID_VALUE: the auxiliary matrix's ld={ldAux} is less than m={m}.");
        }

        if (m == 0 || n == 0)
        {
            return true;
        }

        // The product in fp32 (checked and computed as GemmEx does), then the epilogue on the host, as
        // cuBLASLt applies it to the fp32 result before the one rounding to D's type.
        int size = dType == BlasDataType.BFloat16 ? sizeof(ushort) : sizeof(float);
        float* hostBias = (float*)device.Addresses.HostAddress(bias, (long)m * sizeof(float));
        byte* hostD = device.Addresses.HostAddress(d, (((long)(n - 1) * ldd) + m) * size);
        byte* hostAux = gelu ? device.Addresses.HostAddress(aux, (((long)(n - 1) * ldAux) + m) * size) : null;
        Validate(transA, transB, m, n, k, abType, lda, 0, abType, ldb, 0, ldd, 0, 1);
        float[] product = new float[(long)m * n];
        fixed (float* p = product)
        {
            Compute(transA, transB, m, n, k, 1f, a, abType, lda, 0, b, ldb, 0, 0f, p, m, 0, 1);
        }

        for (long j = 0; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                float x = product[(j * m) + i] + hostBias[i];
                if (gelu)
                {
                    Store(hostAux, dType, (j * ldAux) + i, x);
                    x = Gelu(x);
                }

                Store(hostD, dType, (j * ldd) + i, x);
            }
        }

        return true;
    }

    public void Dispose()
    {
    }

    // The products into host memory: rows of op(A) and columns of op(B), each contiguous over k and
    // widened to fp32, then their dot products.
    private void Compute(BlasOperation transA, BlasOperation transB, int m, int n, int k, float alpha, void* a, BlasDataType type, int lda, long strideA,
        void* b, int ldb, long strideB, float beta, float* hostC, int ldc, long strideC, int batchCount)
    {
        device.Synchronize();
        int size = type == BlasDataType.BFloat16 ? sizeof(ushort) : sizeof(float);
        byte* hostA = k == 0 ? null : device.Addresses.HostAddress(a, Span(Extent(transA, m, k, lda), strideA, batchCount) * size);
        byte* hostB = k == 0 ? null : device.Addresses.HostAddress(b, Span(Extent(transB, k, n, ldb), strideB, batchCount) * size);
        float[] opA = ArrayPool<float>.Shared.Rent(Math.Max(1, m * k));
        float[] opB = ArrayPool<float>.Shared.Rent(Math.Max(1, n * k));
        try
        {
            for (int batch = 0; batch < batchCount; batch++)
            {
                Gather(opA, hostA + (batch * strideA * size), type, transA == BlasOperation.None, m, k, lda);
                Gather(opB, hostB + (batch * strideB * size), type, transB == BlasOperation.Transpose, n, k, ldb);
                Multiply(opA, opB, hostC + (batch * strideC), m, n, k, alpha, beta, ldc);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(opA);
            ArrayPool<float>.Shared.Return(opB);
        }
    }

    private static void Store(byte* target, BlasDataType type, long index, float value)
    {
        if (type == BlasDataType.BFloat16)
        {
            ((ushort*)target)[index] = BFloat16.FromFloat(value);
        }
        else
        {
            ((float*)target)[index] = value;
        }
    }

    // GELU's tanh approximation as x * sigmoid(2u), the form the GPU's own GELU kernel computes.
    private static float Gelu(float x)
    {
        const float Sqrt2OverPi = 0.7978845608028654f, Cubic = 0.044715f;
        return x / (1f + MathF.Exp(-2f * Sqrt2OverPi * (x + (Cubic * x * x * x))));
    }

    // cuBLAS's checks (CUBLAS_STATUS_INVALID_VALUE / NOT_SUPPORTED), plus the ones a C API cannot make.
    private static void Validate(BlasOperation transA, BlasOperation transB, int m, int n, int k, BlasDataType aType, int lda, long strideA,
        BlasDataType bType, int ldb, long strideB, int ldc, long strideC, int batchCount)
    {
        static void Invalid(string what) => throw new ArgumentException($"GEMM: CUBLAS_STATUS_INVALID_VALUE: {what}.");
        if (m < 0 || n < 0 || k < 0 || batchCount < 0)
        {
            Invalid($"m={m}, n={n}, k={k}, batchCount={batchCount} must not be negative");
        }

        if (lda < Math.Max(1, transA == BlasOperation.None ? m : k))
        {
            Invalid($"lda={lda} is less than the rows of A as stored ({(transA == BlasOperation.None ? m : k)})");
        }

        if (ldb < Math.Max(1, transB == BlasOperation.None ? k : n))
        {
            Invalid($"ldb={ldb} is less than the rows of B as stored ({(transB == BlasOperation.None ? k : n)})");
        }

        if (ldc < Math.Max(1, m))
        {
            Invalid($"ldc={ldc} is less than m={m}");
        }

        if (strideA < 0 || strideB < 0 || strideC < 0)
        {
            Invalid("negative batch strides are not used here");
        }

        if (aType != bType || (aType != BlasDataType.Float32 && aType != BlasDataType.BFloat16))
        {
            throw new ArgumentException($"GEMM: CUBLAS_STATUS_NOT_SUPPORTED: A is {aType} and B is {bType}; they must be one type, fp32 or bf16.");
        }
    }

    // Elements an operand stored with rows x cols of its op and leading dimension ld reaches, from its first.
    private static long Extent(BlasOperation op, int rows, int cols, int ld) =>
        op == BlasOperation.None ? ((long)(cols - 1) * ld) + rows : ((long)(rows - 1) * ld) + cols;

    private static long Span(long extent, long stride, int batchCount) => extent + ((batchCount - 1) * stride);

    // Writes count vectors of length k, widened to fp32, to target: the rows of op(A) or the columns of
    // op(B). With strideAlongK, element p of vector i is stored at i + p * ld (A as stored, B transposed);
    // otherwise at p + i * ld (A transposed, B as stored).
    private static void Gather(float[] target, byte* source, BlasDataType type, bool strideAlongK, int count, int k, int ld)
    {
        for (int i = 0; i < count; i++)
        {
            for (int p = 0; p < k; p++)
            {
                long index = strideAlongK ? i + ((long)p * ld) : p + ((long)i * ld);
                target[(i * k) + p] = type == BlasDataType.BFloat16 ? BFloat16.ToFloat(((ushort*)source)[index]) : ((float*)source)[index];
            }
        }
    }

    private static void Multiply(float[] opA, float[] opB, float* c, int m, int n, int k, float alpha, float beta, int ldc)
    {
        void Column(int j)
        {
            var column = new ReadOnlySpan<float>(opB, j * k, k);
            for (int i = 0; i < m; i++)
            {
                float sum = Dot(new ReadOnlySpan<float>(opA, i * k, k), column);
                float* target = c + i + ((long)j * ldc);
                *target = beta == 0 ? alpha * sum : (alpha * sum) + (beta * *target);
            }
        }

        if ((long)m * n * k < (1 << 18))
        {
            for (int j = 0; j < n; j++)
            {
                Column(j);
            }
        }
        else
        {
            Parallel.For(0, n, Column);
        }
    }

    private static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        var sum = Vector<float>.Zero;
        int i = 0, w = Vector<float>.Count;
        for (; i <= x.Length - w; i += w)
        {
            sum += new Vector<float>(x[i..]) * new Vector<float>(y[i..]);
        }

        float total = Vector.Sum(sum);
        for (; i < x.Length; i++)
        {
            total += x[i] * y[i];
        }

        return total;
    }
}
