using SharpGpt.Gpu.Blas;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

/// <summary>The emulated BLAS against a naive triple loop in double, in cuBLAS's column-major terms.</summary>
[Collection(EmulatedGpuCollection.Name)]
public sealed unsafe class EmulatedBlasTests(EmulatedGpu gpu)
{
    public static TheoryData<bool, bool, int, int, int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<bool, bool, int, int, int, int, int, int, int, bool>();
        foreach (var ta in new[] { false, true })
        {
            foreach (var tb in new[] { false, true })
            {
                // m, n, k, padding of lda, ldb, ldc, batches, bf16
                data.Add(ta, tb, 5, 7, 3, 0, 0, 0, 1, false);
                data.Add(ta, tb, 13, 1, 9, 2, 3, 1, 3, false);
                data.Add(ta, tb, 1, 11, 17, 1, 0, 4, 2, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GemmStridedBatchedIsTheNaiveProduct(bool transposeA, bool transposeB, int m, int n, int k, int padA, int padB, int padC, int batches, bool bf16)
    {
        var (ta, tb) = (Operation(transposeA), Operation(transposeB));
        var rng = new Random(m + (3 * n) + (7 * k) + batches);
        var k_ = gpu.Kernels;
        int aRows = ta == BlasOperation.None ? m : k, aCols = ta == BlasOperation.None ? k : m;
        int bRows = tb == BlasOperation.None ? k : n, bCols = tb == BlasOperation.None ? n : k;
        int lda = aRows + padA, ldb = bRows + padB, ldc = m + padC;
        // Batch strides larger than a matrix, so a stride mistake reads the wrong elements.
        long strideA = ((long)lda * aCols) + 5, strideB = ((long)ldb * bCols) + 3, strideC = ((long)ldc * n) + 2;
        float[] a = Round(DeviceArrays.Random(rng, strideA * batches), bf16), b = Round(DeviceArrays.Random(rng, strideB * batches), bf16);
        float[] c = DeviceArrays.Random(rng, strideC * batches);
        const float alpha = 0.75f, beta = -0.5f;

        using var da = Operand(a, bf16);
        using var db = Operand(b, bf16);
        using var dc = DeviceArrays.Upload(k_, c);
        var type = bf16 ? BlasDataType.BFloat16 : BlasDataType.Float32;
        gpu.Device.Blas.GemmStridedBatchedEx(ta, tb, m, n, k, alpha, da.Pointer, type, lda, strideA, db.Pointer, type, ldb, strideB,
            beta, dc.Pointer, ldc, strideC, batches);
        float[] actual = k_.ToArray(dc.Pointer, c.Length);

        float[] expected = ReferenceGemm.StridedBatched(ta, tb, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batches);

        // Elements of C outside the m x n matrices (padding, batch gaps) are untouched.
        DeviceArrays.AssertClose(expected, actual, 1e-5, 1e-5, $"C ({ta}, {tb})");
    }

    [Theory]
    [InlineData(false, true, false, 7, 5, 9, false, false)]
    [InlineData(false, false, true, 3, 11, 4, true, false)]
    [InlineData(true, true, false, 8, 5, 6, false, false)]
    [InlineData(true, true, false, 16, 3, 9, true, true)]
    public void EpilogueIsAppliedToTheProductPlusTheBias(bool geluEpilogue, bool transposeA, bool transposeB, int m, int n, int k, bool bf16, bool bf16Out)
    {
        var epilogue = geluEpilogue ? BlasEpilogue.GeluAuxBias : BlasEpilogue.Bias;
        var (ta, tb) = (Operation(transposeA), Operation(transposeB));
        var rng = new Random(m * n * k);
        int lda = ta == BlasOperation.None ? m : k, ldb = tb == BlasOperation.None ? k : n, ldd = m + 1, ldAux = m + 3;
        float[] a = Round(DeviceArrays.Random(rng, (long)lda * (ta == BlasOperation.None ? k : m), 2f), bf16);
        float[] b = Round(DeviceArrays.Random(rng, (long)ldb * (tb == BlasOperation.None ? n : k)), bf16);
        float[] bias = DeviceArrays.Random(rng, m);
        using var da = Operand(a, bf16);
        using var db = Operand(b, bf16);
        using var dbias = DeviceArrays.Upload(gpu.Kernels, bias);
        using var plain = DeviceArrays.Upload(gpu.Kernels, new float[m * n]);
        using var d = gpu.Kernels.Allocate(ldd * n);
        using var aux = gpu.Kernels.Allocate(ldAux * n);
        var type = bf16 ? BlasDataType.BFloat16 : BlasDataType.Float32;
        var dType = bf16Out ? BlasDataType.BFloat16 : BlasDataType.Float32;
        gpu.Device.Blas.GemmEx(ta, tb, m, n, k, 1f, da.Pointer, type, lda, db.Pointer, type, ldb, 0f, plain.Pointer, m);
        Assert.True(gpu.Device.Blas.TryGemmEpilogue(epilogue, ta, tb, m, n, k, da.Pointer, type, lda, db.Pointer, ldb, d.Pointer, dType, ldd, dbias.Pointer, aux.Pointer, ldAux));

        float[] product = gpu.Kernels.ToArray(plain.Pointer, m * n);
        float[] Read(DeviceBuffer buffer, int ld)
        {
            float[] all = bf16Out ? [.. gpu.Kernels.ToArray((ushort*)buffer.Pointer, ld * n).Select(BFloat16.ToFloat)] : gpu.Kernels.ToArray(buffer.Pointer, ld * n);
            return [.. Enumerable.Range(0, m * n).Select(i => all[(i / m * ld) + (i % m)])];
        }

        float[] x = [.. product.Select((p, i) => p + bias[i % m])];
        double tolerance = bf16Out ? 1.0 / 128 : 1e-6;
        if (epilogue == BlasEpilogue.GeluAuxBias)
        {
            DeviceArrays.AssertClose(x, Read(aux, ldAux), tolerance, 1e-6, "aux (the pre-activation)");
            float[] gelu = [.. x.Select(v => (float)(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + (0.044715 * v * v * v))))))];
            DeviceArrays.AssertClose(gelu, Read(d, ldd), tolerance, 1e-6, "D = GELU(x)");
        }
        else
        {
            DeviceArrays.AssertClose(x, Read(d, ldd), 0, 0, "D = C + bias");
        }
    }

    [Fact]
    public void EpilogueChecksTheBiasLiesInOneAllocation()
    {
        using var a = gpu.Kernels.Allocate(64);
        using var bias = gpu.Kernels.Allocate(3);
        float* p = a.Pointer;
        var past = Assert.Throws<ArgumentOutOfRangeException>(() => gpu.Device.Blas.TryGemmEpilogue(BlasEpilogue.Bias, BlasOperation.None, BlasOperation.None, 4, 2, 2,
            p, BlasDataType.Float32, 4, p + 8, 2, p + 16, BlasDataType.Float32, 4, bias.Pointer, null, 0));
        Assert.Contains("past the end", past.Message);
    }

    [Fact]
    public void ADeviceWithoutEpiloguesDeclinesThem()
    {
        using var a = DeviceArrays.Upload(gpu.NvidiaShaped, new float[64]);
        float* p = a.Pointer;
        Assert.False(gpu.NvidiaShapedDevice.Blas.TryGemmEpilogue(BlasEpilogue.GeluAuxBias, BlasOperation.None, BlasOperation.None, 4, 2, 2,
            p, BlasDataType.Float32, 4, p + 8, 2, p + 16, BlasDataType.Float32, 4, p + 32, p + 40, 4));
        Assert.Equal(0f, gpu.NvidiaShaped.ToArray(p + 16, 8).Max(Math.Abs));
    }

    [Fact]
    public void BetaZeroWritesCWithoutReadingIt()
    {
        using var a = DeviceArrays.Upload(gpu.Kernels, [1f, 2f]);
        using var c = DeviceArrays.Upload(gpu.Kernels, [float.NaN]);
        gpu.Device.Blas.GemmEx(BlasOperation.Transpose, BlasOperation.None, 1, 1, 2, 1f, a.Pointer, BlasDataType.Float32, 2, a.Pointer, BlasDataType.Float32, 2, 0f, c.Pointer, 1);
        Assert.Equal(5f, gpu.Kernels.ToArray(c.Pointer, 1)[0]);
    }

    [Fact]
    public void ArgumentsCuBlasRejectsAreRejected()
    {
        using var a = gpu.Kernels.Allocate(64);
        var blas = gpu.Device.Blas;
        float* p = a.Pointer;
        var small = Assert.Throws<ArgumentException>(() => blas.GemmEx(BlasOperation.None, BlasOperation.None, 4, 2, 2, 1f, p, BlasDataType.Float32, 3, p, BlasDataType.Float32, 2, 0f, p, 4));
        Assert.Contains("lda=3", small.Message);
        var mixed = Assert.Throws<ArgumentException>(() => blas.GemmEx(BlasOperation.None, BlasOperation.None, 2, 2, 2, 1f, p, BlasDataType.Float32, 2, p, BlasDataType.BFloat16, 2, 0f, p, 2));
        Assert.Contains("NOT_SUPPORTED", mixed.Message);
        // An operand that runs past the end of its allocation (a leading-dimension or stride mistake).
        var past = Assert.Throws<ArgumentOutOfRangeException>(() => blas.GemmStridedBatchedEx(BlasOperation.None, BlasOperation.None, 4, 4, 4, 1f,
            p, BlasDataType.Float32, 4, 17, p, BlasDataType.Float32, 4, 0, 0f, p + 48, 4, 0, 4));
        Assert.Contains("past the end", past.Message);
    }

    private DeviceBuffer Operand(float[] values, bool bf16)
    {
        var fp32 = DeviceArrays.Upload(gpu.Kernels, values);
        if (!bf16)
        {
            return fp32;
        }

        using (fp32)
        {
            var half = gpu.Kernels.Allocate((values.Length + 1) / 2);
            gpu.Kernels.Convert((ushort*)half.Pointer, fp32.Pointer, values.Length);
            return half;
        }
    }

    private static float[] Round(float[] values, bool bf16) => bf16 ? [.. values.Select(x => BFloat16.ToFloat(BFloat16.FromFloat(x)))] : values;

    // Theory data is public, and the BLAS enums are internal: the tests take bools.
    private static BlasOperation Operation(bool transpose) => transpose ? BlasOperation.Transpose : BlasOperation.None;
}
