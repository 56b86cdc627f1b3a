using System.Runtime.InteropServices;
using SharpGpt.Gpu.Blas;
using SharpGpt.Gpu.Cuda;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

/// <summary>
/// <see cref="CublasLt"/> against a stand-in libcublasLt (FakeCublasLt/fake_cublaslt.c, compiled by
/// <see cref="StandInLibraries"/> with the system's C compiler) that computes on host memory: the entry points, their argument order,
/// the attributes, the transposed layouts, the heuristic's result and the alignment preferences,
/// checked without a GPU. The stand-in refuses what the real library would silently get wrong, such
/// as an operand less aligned than the algorithm was chosen for.
/// </summary>
public sealed unsafe class CublasLtBindingTests
{
    private const long WorkspaceBytes = 8192;

    [CcTheory]
    [InlineData(true, false, 7, 5, 9, false)]   // a linear layer's forward
    [InlineData(false, true, 6, 4, 3, false)]
    [InlineData(true, false, 16, 3, 8, true)]
    public void BiasProductIsTheNaiveProductPlusTheBias(bool transposeA, bool transposeB, int m, int n, int k, bool bf16)
    {
        var (ta, tb) = (Operation(transposeA), Operation(transposeB));
        using var lt = Create();
        var rng = new Random(m + n + k);
        int lda = ta == BlasOperation.None ? m : k, ldb = tb == BlasOperation.None ? k : n;
        float[] a = DeviceArrays.Random(rng, lda * (ta == BlasOperation.None ? k : m)), b = DeviceArrays.Random(rng, ldb * (tb == BlasOperation.None ? n : k));
        float[] bias = DeviceArrays.Random(rng, m);
        using var ha = HostOperand.Of(a, bf16);
        using var hb = HostOperand.Of(b, bf16);
        using var hbias = HostOperand.Of(bias);
        using var hc = HostOperand.Of([.. Enumerable.Repeat(float.NaN, m * n)]);
        var type = bf16 ? BlasDataType.BFloat16 : BlasDataType.Float32;

        Assert.True(lt.Binding.TryGemmEpilogue(BlasEpilogue.Bias, ta, tb, m, n, k, ha.Pointer, type, lda, hb.Pointer, ldb, hc.Pointer, BlasDataType.Float32, m, hbias.Floats, null, 0),
            lt.Binding.Report);

        float[] product = ReferenceGemm.StridedBatched(ta, tb, m, n, k, 1f, bf16 ? Round(a) : a, lda, 0, bf16 ? Round(b) : b, ldb, 0, 0f, new float[m * n], m, 0, 1);
        float[] expected = [.. product.Select((x, i) => x + bias[i % m])];

        DeviceArrays.AssertClose(expected, hc.ToArray(m * n), 1e-5, 1e-5, $"C + bias ({ta}, {tb}, {type})");
        Assert.Equal("epilogues: 1 of 1 shapes", lt.Binding.Report);
    }

    /// <summary>The fc layer's product: GELU of the product plus the bias in bf16, the pre-activation kept in
    /// the auxiliary matrix (bf16, its own leading dimension).</summary>
    [CcFact]
    public void GeluEpilogueWritesGeluToDAndThePreActivationToAux()
    {
        using var lt = Create();
        const int m = 8, n = 3, k = 4, ldAux = 16;
        var rng = new Random(5);
        float[] a = Round(DeviceArrays.Random(rng, k * m, 2f)), b = Round(DeviceArrays.Random(rng, k * n)), bias = DeviceArrays.Random(rng, m);
        using var ha = HostOperand.Of(a, bf16: true);
        using var hb = HostOperand.Of(b, bf16: true);
        using var hbias = HostOperand.Of(bias);
        using var d = HostOperand.Of(new float[m * n]);          // bf16: half of it used
        using var aux = HostOperand.Of(new float[ldAux * n]);
        Assert.True(lt.Binding.TryGemmEpilogue(BlasEpilogue.GeluAuxBias, BlasOperation.Transpose, BlasOperation.None, m, n, k,
            ha.Pointer, BlasDataType.BFloat16, k, hb.Pointer, k, d.Pointer, BlasDataType.BFloat16, m, hbias.Floats, aux.Pointer, ldAux), lt.Binding.Report);

        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                double x = bias[i];
                for (int p = 0; p < k; p++)
                {
                    x += a[p + (i * k)] * (double)b[p + (j * k)];
                }

                double gelu = 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x))));
                Assert.Equal(x, BFloat16.ToFloat(((ushort*)aux.Pointer)[i + (j * ldAux)]), Math.Abs(x) / 128);
                Assert.Equal(gelu, BFloat16.ToFloat(((ushort*)d.Pointer)[i + (j * m)]), (Math.Abs(gelu) / 128) + 1e-6);
            }
        }
    }

    [CcFact]
    public void EachCallUsesItsOwnBiasWithTheShapesPlan()
    {
        using var lt = Create();
        const int m = 4, n = 2, k = 2;
        using var a = HostOperand.Of(new float[k * m]);   // a zero product: C is the bias alone
        using var b = HostOperand.Of([1f, 2f, 3f, 4f]);
        using var first = HostOperand.Of([1f, 2f, 3f, 4f]);
        using var second = HostOperand.Of([10f, 20f, 30f, 40f]);
        using var c = HostOperand.Of(new float[m * n]);
        int before = lt.MatmulCalls();
        Assert.True(lt.Binding.TryGemmEpilogue(BlasEpilogue.Bias, BlasOperation.Transpose, BlasOperation.None, m, n, k, a.Pointer, BlasDataType.Float32, k, b.Pointer, k, c.Pointer, BlasDataType.Float32, m, first.Floats, null, 0));
        Assert.Equal([1f, 2f, 3f, 4f, 1f, 2f, 3f, 4f], c.ToArray(m * n));
        Assert.True(lt.Binding.TryGemmEpilogue(BlasEpilogue.Bias, BlasOperation.Transpose, BlasOperation.None, m, n, k, a.Pointer, BlasDataType.Float32, k, b.Pointer, k, c.Pointer, BlasDataType.Float32, m, second.Floats, null, 0));
        Assert.Equal([10f, 20f, 30f, 40f, 10f, 20f, 30f, 40f], c.ToArray(m * n));
        Assert.Equal(before + 2, lt.MatmulCalls());
        Assert.Equal("epilogues: 1 of 1 shapes", lt.Binding.Report);
    }

    [CcFact]
    public void AnOperandAlignedToLessThanTheAlgorithmsNeedIsDeclinedNotRun()
    {
        using var lt = Create();
        const int m = 4, n = 2, k = 4;
        using var a = HostOperand.Of(new float[(k * m) + 4]);
        using var b = HostOperand.Of(new float[k * n]);
        using var bias = HostOperand.Of(new float[m]);
        using var c = HostOperand.Of(new float[m * n]);
        // 4 bytes past a 256-byte boundary: the heuristic is told so, and the stand-in, like the
        // tensor-core kernels, has no algorithm for it. 16 bytes past one is aligned enough.
        Assert.False(lt.Binding.TryGemmEpilogue(BlasEpilogue.Bias, BlasOperation.Transpose, BlasOperation.None, m, n, k, a.Floats + 1, BlasDataType.Float32, k, b.Pointer, k, c.Pointer, BlasDataType.Float32, m, bias.Floats, null, 0));
        Assert.True(lt.Binding.TryGemmEpilogue(BlasEpilogue.Bias, BlasOperation.Transpose, BlasOperation.None, m, n, k, a.Floats + 4, BlasDataType.Float32, k, b.Pointer, k, c.Pointer, BlasDataType.Float32, m, bias.Floats, null, 0));
        Assert.Equal("epilogues: 1 of 2 shapes, declined: Bias Transpose/None m=4 n=2 k=4 Float32->Float32 (no algorithm)", lt.Binding.Report);
    }

    [CcFact]
    public void ItNamesTheLibrarysVersion()
    {
        using var lt = Create();
        Assert.Equal("cuBLASLt 13.1.2", lt.Binding.Name);
    }

    private static FakeLibrary Create() => new();

    private static float[] Round(float[] values) => [.. values.Select(x => BFloat16.ToFloat(BFloat16.FromFloat(x)))];

    /// <summary>A <see cref="CublasLt"/> over the stand-in, with its workspace.</summary>
    private sealed class FakeLibrary : IDisposable
    {
        private readonly nint _library = StandInLibraries.Load("fake_cublaslt.c");
        private readonly void* _workspace;

        public FakeLibrary()
        {
            _workspace = NativeMemory.AlignedAlloc((nuint)WorkspaceBytes, 256);
            Binding = CublasLt.TryCreate(_library, 0, _workspace, WorkspaceBytes, out string? reason) ?? throw new InvalidOperationException(reason);
        }

        public CublasLt Binding { get; }

        public int MatmulCalls() => StandInLibraries.Call<int>(_library, "fake_matmul_calls");

        public void Dispose()
        {
            Binding.Dispose();
            NativeMemory.AlignedFree(_workspace);
        }
    }

    // Theory data is public, and the BLAS enums are internal: the tests take bools.
    private static BlasOperation Operation(bool transpose) => transpose ? BlasOperation.Transpose : BlasOperation.None;
}
