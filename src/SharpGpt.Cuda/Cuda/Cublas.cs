using System.Runtime.InteropServices;
using SharpGpt.Gpu.Blas;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Cuda;

/// <summary>
/// <see cref="IBlas"/> over NVIDIA's cuBLAS, bound by hand (function pointers from the library
/// <see cref="CudaLibraryPaths"/> finds), on the ILGPU accelerator's context and stream so that the
/// products are ordered with the kernels. fp32 accumulation (CUBLAS_COMPUTE_32F); bf16 operands run
/// on tensor cores. Its workspace is allocated once. Products with an epilogue go to <see cref="CublasLt"/>
/// unless the caller turns the epilogues off or cuBLASLt will not start.
/// </summary>
internal sealed unsafe class Cublas : IBlas
{
    private const int ComputeFloat32 = 68;   // CUBLAS_COMPUTE_32F
    private const int GemmDefault = -1;      // CUBLAS_GEMM_DEFAULT
    private const int DefaultMath = 0;       // CUBLAS_DEFAULT_MATH: tensor cores where the types allow, no TF32 for fp32
    /// <summary>Bytes of the workspace cuBLAS and cuBLASLt share.</summary>
    public const long WorkspaceBytes = 32L << 20;

    private readonly nint _handle;
    private readonly DeviceBuffer _workspace;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, float*, void*, int, int, void*, int, int, float*, void*, int, int, int, int, int> _gemmEx;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, float*, void*, int, int, long, void*, int, int, long, float*, void*, int, int, long, int, int, int, int> _gemmStridedBatchedEx;
    private readonly delegate* unmanaged<nint, int> _destroy;
    private readonly CublasLt? _lt;

    /// <param name="cublas">The loaded libcublas.so.N.</param>
    /// <param name="cublasLt">Its libcublasLt.so.N.</param>
    /// <param name="workspace"><see cref="WorkspaceBytes"/> of device memory, owned from now on.</param>
    /// <param name="stream">The CUstream of the accelerator whose context is current on this thread.</param>
    /// <param name="epilogues">Whether products with an epilogue go to cuBLASLt; if not, <paramref name="epiloguesOff"/> says why.</param>
    public Cublas(nint cublas, nint cublasLt, string path, nint stream, DeviceBuffer workspace, bool epilogues = true, string epiloguesOff = "off")
    {
        nint Export(string name) => NativeLibrary.TryGetExport(cublas, name, out nint f) ? f
            : throw new InvalidOperationException($"{path} has no {name}: it is not a cuBLAS of CUDA 12 or 13.");

        _gemmEx = (delegate* unmanaged<nint, int, int, int, int, int, float*, void*, int, int, void*, int, int, float*, void*, int, int, int, int, int>)Export("cublasGemmEx");
        _gemmStridedBatchedEx = (delegate* unmanaged<nint, int, int, int, int, int, float*, void*, int, int, long, void*, int, int, long, float*, void*, int, int, long, int, int, int, int>)Export("cublasGemmStridedBatchedEx");
        _destroy = (delegate* unmanaged<nint, int>)Export("cublasDestroy_v2");
        nint handle = 0;
        Check(((delegate* unmanaged<nint*, int>)Export("cublasCreate_v2"))(&handle), "cublasCreate_v2");
        _handle = handle;
        int version = 0;
        Check(((delegate* unmanaged<nint, int*, int>)Export("cublasGetVersion_v2"))(_handle, &version), "cublasGetVersion_v2");
        Check(((delegate* unmanaged<nint, nint, int>)Export("cublasSetStream_v2"))(_handle, stream), "cublasSetStream_v2");
        Check(((delegate* unmanaged<nint, int, int>)Export("cublasSetMathMode"))(_handle, DefaultMath), "cublasSetMathMode");
        _workspace = workspace;
        Check(((delegate* unmanaged<nint, void*, nuint, int>)Export("cublasSetWorkspace_v2"))(_handle, _workspace.Pointer, (nuint)WorkspaceBytes), "cublasSetWorkspace_v2");
        string? ltStatus = epiloguesOff;
        if (epilogues)
        {
            _lt = CublasLt.TryCreate(cublasLt, stream, _workspace.Pointer, WorkspaceBytes, out ltStatus);
        }

        // cublasGetVersion: major * 10000 + minor * 100 + patch.
        Name = $"cuBLAS {version / 10000}.{version / 100 % 100}.{version % 100} ({path}); "
            + (_lt is null ? $"cuBLASLt epilogues {ltStatus}" : $"{_lt.Name} epilogues");
    }

    public string Name { get; }

    public string EpilogueReport => _lt?.Report ?? "epilogues: off";

    public void GemmEx(BlasOperation transA, BlasOperation transB, int m, int n, int k, float alpha,
        void* a, BlasDataType aType, int lda, void* b, BlasDataType bType, int ldb, float beta, float* c, int ldc) =>
        Check(_gemmEx(_handle, (int)transA, (int)transB, m, n, k, &alpha, a, (int)aType, lda, b, (int)bType, ldb, &beta, c, (int)BlasDataType.Float32, ldc,
            ComputeFloat32, GemmDefault), "cublasGemmEx");

    public void GemmStridedBatchedEx(BlasOperation transA, BlasOperation transB, int m, int n, int k, float alpha,
        void* a, BlasDataType aType, int lda, long strideA, void* b, BlasDataType bType, int ldb, long strideB,
        float beta, float* c, int ldc, long strideC, int batchCount) =>
        Check(_gemmStridedBatchedEx(_handle, (int)transA, (int)transB, m, n, k, &alpha, a, (int)aType, lda, strideA, b, (int)bType, ldb, strideB,
            &beta, c, (int)BlasDataType.Float32, ldc, strideC, batchCount, ComputeFloat32, GemmDefault), "cublasGemmStridedBatchedEx");

    public bool TryGemmEpilogue(BlasEpilogue epilogue, BlasOperation transA, BlasOperation transB, int m, int n, int k,
        void* a, BlasDataType abType, int lda, void* b, int ldb, void* d, BlasDataType dType, int ldd, float* bias, void* aux, int ldAux) =>
        _lt is not null && _lt.TryGemmEpilogue(epilogue, transA, transB, m, n, k, a, abType, lda, b, ldb, d, dType, ldd, bias, aux, ldAux);

    public void Dispose()
    {
        _lt?.Dispose();
        _ = _destroy(_handle);
        _workspace.Dispose();
    }

    private static void Check(int status, string call)
    {
        if (status != 0)
        {
            throw new InvalidOperationException($"{call} failed: {Status(status)}.");
        }
    }

    internal static string Status(int status) => status switch
    {
        1 => "CUBLAS_STATUS_NOT_INITIALIZED",
        3 => "CUBLAS_STATUS_ALLOC_FAILED",
        7 => "CUBLAS_STATUS_INVALID_VALUE",
        8 => "CUBLAS_STATUS_ARCH_MISMATCH",
        11 => "CUBLAS_STATUS_MAPPING_ERROR",
        13 => "CUBLAS_STATUS_EXECUTION_FAILED",
        14 => "CUBLAS_STATUS_INTERNAL_ERROR",
        15 => "CUBLAS_STATUS_NOT_SUPPORTED",
        16 => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => $"cuBLAS status {status}",
    };
}
