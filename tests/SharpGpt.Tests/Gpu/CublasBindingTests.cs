using SharpGpt.Gpu.Blas;
using SharpGpt.Gpu.Cuda;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

/// <summary>
/// <see cref="Cublas"/> against stand-in libcublas and libcublasLt libraries (FakeCublasLt, compiled by
/// <see cref="StandInLibraries"/>) that compute on host memory: the entry points and their argument
/// order (transposes, leading dimensions, 64-bit batch strides, the output and compute types), the
/// stream and workspace it binds, and the routing of epilogues to cuBLASLt.
/// </summary>
public sealed unsafe class CublasBindingTests
{
    private const nint Stream = 0x5eed;

    [CcTheory]
    [InlineData(false, false, 5, 7, 3, 1, false)]
    [InlineData(true, false, 6, 4, 9, 3, false)]
    [InlineData(false, true, 3, 5, 2, 2, true)]
    [InlineData(true, true, 4, 3, 8, 1, true)]
    public void StridedBatchedProductsAreTheNaiveOnes(bool transposeA, bool transposeB, int m, int n, int k, int batches, bool bf16)
    {
        var (ta, tb) = (Operation(transposeA), Operation(transposeB));
        using var blas = Create();
        var rng = new Random(m + (2 * n) + (5 * k) + batches);
        int lda = (ta == BlasOperation.None ? m : k) + 1, ldb = (tb == BlasOperation.None ? k : n) + 2, ldc = m + 1;
        long strideA = ((long)lda * (ta == BlasOperation.None ? k : m)) + 3, strideB = ((long)ldb * (tb == BlasOperation.None ? n : k)) + 1, strideC = ((long)ldc * n) + 2;
        float[] a = DeviceArrays.Random(rng, strideA * batches), b = DeviceArrays.Random(rng, strideB * batches), c = DeviceArrays.Random(rng, strideC * batches);
        using var ha = HostOperand.Of(a, bf16);
        using var hb = HostOperand.Of(b, bf16);
        using var hc = HostOperand.Of(c);
        var type = bf16 ? BlasDataType.BFloat16 : BlasDataType.Float32;
        const float alpha = 0.5f, beta = -1.5f;
        if (batches == 1)
        {
            blas.GemmEx(ta, tb, m, n, k, alpha, ha.Pointer, type, lda, hb.Pointer, type, ldb, beta, hc.Floats, ldc);
        }
        else
        {
            blas.GemmStridedBatchedEx(ta, tb, m, n, k, alpha, ha.Pointer, type, lda, strideA, hb.Pointer, type, ldb, strideB, beta, hc.Floats, ldc, strideC, batches);
        }

        float[] expected = ReferenceGemm.StridedBatched(ta, tb, m, n, k, alpha, bf16 ? Round(a) : a, lda, strideA, bf16 ? Round(b) : b, ldb, strideB, beta, c, ldc, strideC, batches);
        DeviceArrays.AssertClose(expected, hc.ToArray(c.Length), 1e-5, 1e-5, $"C ({ta}, {tb}, {type}, {batches} batches)");
    }

    [CcFact]
    public void ItBindsTheStreamTheWorkspaceAndTheDefaultMathMode()
    {
        using var blas = Create();
        nint cublas = StandInLibraries.Load("fake_cublas.c");
        Assert.Equal(Stream, StandInLibraries.Call<nint>(cublas, "fake_stream"));
        Assert.Equal((nuint)Cublas.WorkspaceBytes, StandInLibraries.Call<nuint>(cublas, "fake_workspace_bytes"));
        Assert.Equal(0, StandInLibraries.Call<int>(cublas, "fake_math_mode"));   // CUBLAS_DEFAULT_MATH: no TF32 for fp32 products
        Assert.StartsWith("cuBLAS 13.1.0 (libcublas.so.13); cuBLASLt 13.1.2 epilogues", blas.Name);
    }

    [CcFact]
    public void EpiloguesGoToCuBlasLtUnlessTurnedOff()
    {
        nint lt = StandInLibraries.Load("fake_cublaslt.c");
        using var a = HostOperand.Of([1f, 2f]);
        using var bias = HostOperand.Of([10f]);
        using var c = HostOperand.Of([0f]);
        int before = StandInLibraries.Call<int>(lt, "fake_matmul_calls");
        using (var on = Create())
        {
            Assert.True(on.TryGemmEpilogue(BlasEpilogue.Bias, BlasOperation.Transpose, BlasOperation.None, 1, 1, 2, a.Pointer, BlasDataType.Float32, 2, a.Pointer, 2, c.Pointer, BlasDataType.Float32, 1, bias.Floats, null, 0));
            Assert.Equal(15f, c.ToArray(1)[0]);
            Assert.Equal(before + 1, StandInLibraries.Call<int>(lt, "fake_matmul_calls"));
        }

        using var off = Create(epilogues: false);
        Assert.False(off.TryGemmEpilogue(BlasEpilogue.Bias, BlasOperation.Transpose, BlasOperation.None, 1, 1, 2, a.Pointer, BlasDataType.Float32, 2, a.Pointer, 2, c.Pointer, BlasDataType.Float32, 1, bias.Floats, null, 0));
        Assert.EndsWith("cuBLASLt epilogues off (for the test)", off.Name);
        Assert.Equal("epilogues: off", off.EpilogueReport);
    }

    [CcFact]
    public void AStatusOtherThanSuccessIsAnErrorNamingTheCall()
    {
        using var blas = Create();
        using var a = HostOperand.Of(new float[4]);
        // lda below the rows of A: the stand-in refuses it, as cuBLAS does.
        var error = Assert.Throws<InvalidOperationException>(() => blas.GemmEx(BlasOperation.None, BlasOperation.None, 2, 1, 1, 1f, a.Pointer, BlasDataType.Float32, 1,
            a.Pointer, BlasDataType.Float32, 1, 0f, a.Floats, 2));
        Assert.Equal("cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE.", error.Message);
    }

    private static Cublas Create(bool epilogues = true) =>
        new(StandInLibraries.Load("fake_cublas.c"), StandInLibraries.Load("fake_cublaslt.c"), "libcublas.so.13", Stream,
            new NativeBuffer(Cublas.WorkspaceBytes / sizeof(float)), epilogues, "off (for the test)");

    private static float[] Round(float[] values) => [.. values.Select(x => BFloat16.ToFloat(BFloat16.FromFloat(x)))];

    // Theory data is public, and the BLAS enums are internal: the tests take bools.
    private static BlasOperation Operation(bool transpose) => transpose ? BlasOperation.Transpose : BlasOperation.None;
}
