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
    [InlineData(BlasOperation.Transpose, BlasOperation.None, 7, 5, 9, false)]   // a linear layer's forward
    [InlineData(BlasOperation.None, BlasOperation.Transpose, 6, 4, 3, false)]
    [InlineData(BlasOperation.Transpose, BlasOperation.None, 16, 3, 8, true)]
    public void BiasProductIsTheNaiveProductPlusTheBias(BlasOperation ta, BlasOperation tb, int m, int n, int k, bool bf16)
    {
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

        Assert.True(lt.Binding.TryGemmBias(ta, tb, m, n, k, ha.Pointer, type, lda, hb.Pointer, ldb, (float*)hc.Pointer, m, (float*)hbias.Pointer), lt.Binding.Report);

        float[] ra = bf16 ? Round(a) : a, rb = bf16 ? Round(b) : b;
        var expected = new float[m * n];
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += ra[ta == BlasOperation.None ? i + (p * lda) : p + (i * lda)] * (double)rb[tb == BlasOperation.None ? p + (j * ldb) : j + (p * ldb)];
                }

                expected[i + (j * m)] = (float)sum + bias[i];
            }
        }

        DeviceArrays.AssertClose(expected, hc.ToArray(m * n), 1e-5, 1e-5, $"C + bias ({ta}, {tb}, {type})");
        Assert.Equal("bias epilogue: 1 of 1 shapes", lt.Binding.Report);
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
        Assert.True(lt.Binding.TryGemmBias(BlasOperation.Transpose, BlasOperation.None, m, n, k, a.Pointer, BlasDataType.Float32, k, b.Pointer, k, (float*)c.Pointer, m, (float*)first.Pointer));
        Assert.Equal([1f, 2f, 3f, 4f, 1f, 2f, 3f, 4f], c.ToArray(m * n));
        Assert.True(lt.Binding.TryGemmBias(BlasOperation.Transpose, BlasOperation.None, m, n, k, a.Pointer, BlasDataType.Float32, k, b.Pointer, k, (float*)c.Pointer, m, (float*)second.Pointer));
        Assert.Equal([10f, 20f, 30f, 40f, 10f, 20f, 30f, 40f], c.ToArray(m * n));
        Assert.Equal(before + 2, lt.MatmulCalls());
        Assert.Equal("bias epilogue: 1 of 1 shapes", lt.Binding.Report);
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
        Assert.False(lt.Binding.TryGemmBias(BlasOperation.Transpose, BlasOperation.None, m, n, k, (float*)a.Pointer + 1, BlasDataType.Float32, k, b.Pointer, k, (float*)c.Pointer, m, (float*)bias.Pointer));
        Assert.True(lt.Binding.TryGemmBias(BlasOperation.Transpose, BlasOperation.None, m, n, k, (float*)a.Pointer + 4, BlasDataType.Float32, k, b.Pointer, k, (float*)c.Pointer, m, (float*)bias.Pointer));
        Assert.Equal("bias epilogue: 1 of 2 shapes, declined: Transpose/None m=4 n=2 k=4 Float32 (no algorithm)", lt.Binding.Report);
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
}
