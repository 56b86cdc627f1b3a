using System.Runtime.InteropServices;
using SharpGpt.Gpu.Blas;

namespace SharpGpt.Gpu.Cuda;

/// <summary>
/// NVIDIA's cuBLASLt, bound by hand, for the products whose epilogue saves a pass: the bias add of a
/// linear layer (CUBLASLT_EPILOGUE_BIAS). Each shape gets its descriptors and the heuristic's first
/// algorithm once; a shape cuBLASLt has no algorithm for is remembered as declined and the caller
/// adds the bias itself. Runs on the accelerator's stream with <see cref="Cublas"/>'s workspace, so it
/// is ordered with the kernels and the other products.
/// </summary>
internal sealed unsafe class CublasLt : IDisposable
{
    private const int ComputeFloat32 = 68;          // CUBLAS_COMPUTE_32F
    private const int Float32 = 0;                   // CUDA_R_32F: scale type, C and D, the bias
    private const int DescTransA = 3;                // CUBLASLT_MATMUL_DESC_TRANSA
    private const int DescTransB = 4;                // CUBLASLT_MATMUL_DESC_TRANSB
    private const int DescEpilogue = 7;              // CUBLASLT_MATMUL_DESC_EPILOGUE
    private const int DescBiasPointer = 8;           // CUBLASLT_MATMUL_DESC_BIAS_POINTER
    private const uint EpilogueBias = 4;             // CUBLASLT_EPILOGUE_BIAS
    private const int PreferenceMaxWorkspace = 1;    // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES
    private const int PreferenceMinAlignmentA = 5;   // CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES; B, C, D follow

    private readonly nint _handle;
    private readonly nint _stream;
    private readonly void* _workspace;
    private readonly ulong _workspaceBytes;
    private readonly Dictionary<Shape, Plan?> _plans = [];
    private readonly Dictionary<Shape, string> _refused = [];
    private readonly Api _api;

    private CublasLt(Api api, nint handle, nint stream, void* workspace, long workspaceBytes)
    {
        _api = api;
        _handle = handle;
        _stream = stream;
        _workspace = workspace;
        _workspaceBytes = (ulong)workspaceBytes;
    }

    /// <summary>What cuBLASLt reports of itself, e.g. "cuBLASLt 13.1.0".</summary>
    public string Name { get; private init; } = "";

    /// <summary>Shapes planned so far, and those cuBLASLt declined (with its status).</summary>
    public string Report => _plans.Count == 0 ? "bias epilogue: no products yet"
        : $"bias epilogue: {_plans.Count(p => p.Value is not null)} of {_plans.Count} shapes"
          + (_plans.Any(p => p.Value is null)
              ? $", declined: {string.Join("; ", _plans.Where(p => p.Value is null).Select(p => _refused.TryGetValue(p.Key, out string? why) ? $"{p.Key} ({why})" : $"{p.Key} (no algorithm)"))}"
              : "");

    /// <summary>cuBLASLt on the loaded library, or null with the reason when it lacks an entry point or will not start.</summary>
    public static CublasLt? TryCreate(nint library, nint stream, void* workspace, long workspaceBytes, out string? reason)
    {
        if (!Api.TryBind(library, out var api, out string? missing))
        {
            reason = $"libcublasLt has no {missing}";
            return null;
        }

        nint handle = 0;
        int status = api.Create(&handle);
        if (status != 0)
        {
            reason = $"cublasLtCreate failed: {Cublas.Status(status)}";
            return null;
        }

        reason = null;
        ulong version = api.GetVersion();
        return new CublasLt(api, handle, stream, workspace, workspaceBytes)
        {
            Name = $"cuBLASLt {version / 10000}.{version / 100 % 100}.{version % 100}",
        };
    }

    /// <summary>C = op(A) op(B) + bias in one cublasLtMatmul; false when cuBLASLt has no algorithm for the shape.</summary>
    public bool TryGemmBias(BlasOperation transA, BlasOperation transB, int m, int n, int k,
        void* a, BlasDataType type, int lda, void* b, int ldb, float* c, int ldc, float* bias)
    {
        var shape = new Shape(transA, transB, m, n, k, type, lda, ldb, ldc, Alignment(a), Alignment(b), Alignment(c), Alignment(bias));
        if (!_plans.TryGetValue(shape, out var plan))
        {
            plan = Plan.TryCreate(_api, _handle, shape, bias, _workspaceBytes);
            _plans[shape] = plan;
        }

        if (plan is null)
        {
            return false;
        }

        // A call cuBLASLt refuses (its status, before anything is queued) declines the shape rather than
        // failing the run: the caller adds the bias itself, and the report says so.
        float alpha = 1f, beta = 0f;
        int status = _api.DescSetAttribute(plan.Desc, DescBiasPointer, &bias, (nuint)sizeof(void*));
        if (status == 0)
        {
            fixed (Algorithm* algorithm = &plan.Algorithm)
            {
                status = _api.Matmul(_handle, plan.Desc, &alpha, a, plan.A, b, plan.B, &beta, c, plan.C, c, plan.C, algorithm, _workspace, (nuint)_workspaceBytes, _stream);
            }
        }

        if (status != 0)
        {
            plan.Destroy(_api);
            _plans[shape] = null;
            _refused[shape] = Cublas.Status(status);
            return false;
        }

        return true;
    }

    public void Dispose()
    {
        foreach (var plan in _plans.Values)
        {
            plan?.Destroy(_api);
        }

        _plans.Clear();
        _ = _api.Destroy(_handle);
    }

    // The largest power of two (up to 256, cuBLASLt's default assumption) dividing the address.
    private static uint Alignment(void* p)
    {
        ulong address = (ulong)p;
        return address == 0 ? 256u : (uint)Math.Min(256ul, address & (~address + 1));
    }

    /// <summary>What decides a product's algorithm: the operation, the layouts and the operands' alignments.</summary>
    private readonly record struct Shape(BlasOperation TransA, BlasOperation TransB, int M, int N, int K, BlasDataType Type, int Lda, int Ldb, int Ldc,
        uint AlignA, uint AlignB, uint AlignC, uint AlignBias)
    {
        public override string ToString() => $"{TransA}/{TransB} m={M} n={N} k={K} {Type}";
    }

    /// <summary>cublasLtMatmulAlgo_t: 64 opaque bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Algorithm
    {
        public fixed ulong Data[8];
    }

    /// <summary>cublasLtMatmulHeuristicResult_t.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct HeuristicResult
    {
        public Algorithm Algorithm;
        public nuint WorkspaceSize;
        public int State;
        public float WavesCount;
        public fixed int Reserved[4];
    }

    /// <summary>One shape's descriptors and algorithm.</summary>
    private sealed class Plan
    {
        public nint Desc;
        public nint A;
        public nint B;
        public nint C;
        public Algorithm Algorithm;

        public static Plan? TryCreate(Api api, nint handle, Shape s, float* bias, ulong workspaceBytes)
        {
            var plan = new Plan();
            nint preference = 0;
            try
            {
                int transA = (int)s.TransA, transB = (int)s.TransB;
                uint epilogue = EpilogueBias;
                nint desc = 0, layoutA = 0, layoutB = 0, layoutC = 0;
                int type = (int)s.Type;
                bool ok = api.DescCreate(&desc, ComputeFloat32, Float32) == 0;
                plan.Desc = desc;
                ok = ok && api.DescSetAttribute(desc, DescTransA, &transA, sizeof(int)) == 0
                    && api.DescSetAttribute(desc, DescTransB, &transB, sizeof(int)) == 0
                    && api.DescSetAttribute(desc, DescEpilogue, &epilogue, sizeof(uint)) == 0
                    && api.DescSetAttribute(desc, DescBiasPointer, &bias, (nuint)sizeof(void*)) == 0;
                // Layouts as stored: op(A) is m x k, so A is k x m when transposed; C is m x n.
                ok = ok && api.LayoutCreate(&layoutA, type, (ulong)(s.TransA == BlasOperation.None ? s.M : s.K), (ulong)(s.TransA == BlasOperation.None ? s.K : s.M), s.Lda) == 0;
                plan.A = layoutA;
                ok = ok && api.LayoutCreate(&layoutB, type, (ulong)(s.TransB == BlasOperation.None ? s.K : s.N), (ulong)(s.TransB == BlasOperation.None ? s.N : s.K), s.Ldb) == 0;
                plan.B = layoutB;
                ok = ok && api.LayoutCreate(&layoutC, Float32, (ulong)s.M, (ulong)s.N, s.Ldc) == 0;
                plan.C = layoutC;
                ok = ok && api.PreferenceCreate(&preference) == 0
                    && api.PreferenceSetAttribute(preference, PreferenceMaxWorkspace, &workspaceBytes, sizeof(ulong)) == 0;
                uint[] alignments = [s.AlignA, s.AlignB, s.AlignC, s.AlignC];
                for (int i = 0; ok && i < alignments.Length; i++)
                {
                    uint alignment = alignments[i];
                    ok = api.PreferenceSetAttribute(preference, PreferenceMinAlignmentA + i, &alignment, sizeof(uint)) == 0;
                }

                HeuristicResult result = default;
                int found = 0;
                ok = ok && api.AlgoGetHeuristic(handle, desc, layoutA, layoutB, layoutC, layoutC, preference, 1, &result, &found) == 0
                    && found > 0 && result.State == 0 && result.WorkspaceSize <= workspaceBytes;
                if (!ok)
                {
                    plan.Destroy(api);
                    return null;
                }

                plan.Algorithm = result.Algorithm;
                return plan;
            }
            finally
            {
                if (preference != 0)
                {
                    _ = api.PreferenceDestroy(preference);
                }
            }
        }

        public void Destroy(Api api)
        {
            foreach (nint layout in (nint[])[A, B, C])
            {
                if (layout != 0)
                {
                    _ = api.LayoutDestroy(layout);
                }
            }

            if (Desc != 0)
            {
                _ = api.DescDestroy(Desc);
            }
        }
    }

    /// <summary>The entry points, as function pointers from the loaded library.</summary>
    private sealed class Api
    {
        public delegate* unmanaged<nint*, int> Create;
        public delegate* unmanaged<nint, int> Destroy;
        public delegate* unmanaged<nuint> GetVersion;
        public delegate* unmanaged<nint*, int, int, int> DescCreate;
        public delegate* unmanaged<nint, int> DescDestroy;
        public delegate* unmanaged<nint, int, void*, nuint, int> DescSetAttribute;
        public delegate* unmanaged<nint*, int, ulong, ulong, long, int> LayoutCreate;
        public delegate* unmanaged<nint, int> LayoutDestroy;
        public delegate* unmanaged<nint*, int> PreferenceCreate;
        public delegate* unmanaged<nint, int> PreferenceDestroy;
        public delegate* unmanaged<nint, int, void*, nuint, int> PreferenceSetAttribute;
        public delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, int, HeuristicResult*, int*, int> AlgoGetHeuristic;
        public delegate* unmanaged<nint, nint, float*, void*, nint, void*, nint, float*, void*, nint, void*, nint, Algorithm*, void*, nuint, nint, int> Matmul;

        public static bool TryBind(nint library, out Api api, out string? missing)
        {
            string? absent = null;
            nint Export(string name)
            {
                if (NativeLibrary.TryGetExport(library, name, out nint f))
                {
                    return f;
                }

                absent ??= name;
                return 0;
            }

            api = new Api
            {
                Create = (delegate* unmanaged<nint*, int>)Export("cublasLtCreate"),
                Destroy = (delegate* unmanaged<nint, int>)Export("cublasLtDestroy"),
                GetVersion = (delegate* unmanaged<nuint>)Export("cublasLtGetVersion"),
                DescCreate = (delegate* unmanaged<nint*, int, int, int>)Export("cublasLtMatmulDescCreate"),
                DescDestroy = (delegate* unmanaged<nint, int>)Export("cublasLtMatmulDescDestroy"),
                DescSetAttribute = (delegate* unmanaged<nint, int, void*, nuint, int>)Export("cublasLtMatmulDescSetAttribute"),
                LayoutCreate = (delegate* unmanaged<nint*, int, ulong, ulong, long, int>)Export("cublasLtMatrixLayoutCreate"),
                LayoutDestroy = (delegate* unmanaged<nint, int>)Export("cublasLtMatrixLayoutDestroy"),
                PreferenceCreate = (delegate* unmanaged<nint*, int>)Export("cublasLtMatmulPreferenceCreate"),
                PreferenceDestroy = (delegate* unmanaged<nint, int>)Export("cublasLtMatmulPreferenceDestroy"),
                PreferenceSetAttribute = (delegate* unmanaged<nint, int, void*, nuint, int>)Export("cublasLtMatmulPreferenceSetAttribute"),
                AlgoGetHeuristic = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, int, HeuristicResult*, int*, int>)Export("cublasLtMatmulAlgoGetHeuristic"),
                Matmul = (delegate* unmanaged<nint, nint, float*, void*, nint, void*, nint, float*, void*, nint, void*, nint, Algorithm*, void*, nuint, nint, int>)Export("cublasLtMatmul"),
            };
            missing = absent;
            return absent is null;
        }
    }
}
