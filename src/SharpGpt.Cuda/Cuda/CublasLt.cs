using System.Runtime.InteropServices;
using SharpGpt.Gpu.Blas;

namespace SharpGpt.Gpu.Cuda;

/// <summary>
/// NVIDIA's cuBLASLt, bound by hand, for the products whose epilogue saves a pass: a linear layer's
/// bias add (CUBLASLT_EPILOGUE_BIAS), and the fc layer's bias and GELU with its pre-activation kept
/// for the backward (CUBLASLT_EPILOGUE_GELU_AUX_BIAS). Each shape gets its descriptors and the
/// heuristic's first algorithm once; a shape cuBLASLt has no algorithm for is remembered as
/// declined and the caller does the epilogue's work itself. Runs on the accelerator's stream with
/// <see cref="Cublas"/>'s workspace, so it is ordered with the kernels and the other products.
/// </summary>
internal sealed unsafe class CublasLt : IDisposable
{
    private const int ComputeFloat32 = 68;          // CUBLAS_COMPUTE_32F
    private const int Float32 = 0;                   // CUDA_R_32F: the scale type and the bias
    private const int DescTransA = 3;                // CUBLASLT_MATMUL_DESC_TRANSA
    private const int DescTransB = 4;                // CUBLASLT_MATMUL_DESC_TRANSB
    private const int DescEpilogue = 7;              // CUBLASLT_MATMUL_DESC_EPILOGUE
    private const int DescBiasPointer = 8;           // CUBLASLT_MATMUL_DESC_BIAS_POINTER
    private const int DescAuxPointer = 11;           // CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER
    private const int DescAuxLd = 12;                // CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD
    private const int DescBiasDataType = 26;         // CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE
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
    public string Report => _plans.Count == 0 ? "epilogues: no products yet"
        : $"epilogues: {_plans.Count(p => p.Value is not null)} of {_plans.Count} shapes"
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

    /// <summary>D = epilogue(op(A) op(B) + bias) in one cublasLtMatmul; false when cuBLASLt has no algorithm for the shape.</summary>
    public bool TryGemmEpilogue(BlasEpilogue epilogue, BlasOperation transA, BlasOperation transB, int m, int n, int k,
        void* a, BlasDataType abType, int lda, void* b, int ldb, void* d, BlasDataType dType, int ldd, float* bias, void* aux, int ldAux)
    {
        bool withAux = epilogue == BlasEpilogue.GeluAuxBias;
        var shape = new Shape(epilogue, transA, transB, m, n, k, abType, dType, lda, ldb, ldd, withAux ? ldAux : 0,
            Alignment(a), Alignment(b), Alignment(d), Alignment(bias), withAux ? Alignment(aux) : 0);
        if (!_plans.TryGetValue(shape, out var plan))
        {
            plan = Plan.TryCreate(_api, _handle, shape, bias, aux, _workspaceBytes);
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
        if (status == 0 && withAux)
        {
            status = _api.DescSetAttribute(plan.Desc, DescAuxPointer, &aux, (nuint)sizeof(void*));
        }

        if (status == 0)
        {
            fixed (Algorithm* algorithm = &plan.Algorithm)
            {
                // C is D (beta is 0, so it is not read): cuBLASLt wants C's layout and type to be D's.
                status = _api.Matmul(_handle, plan.Desc, &alpha, a, plan.A, b, plan.B, &beta, d, plan.D, d, plan.D, algorithm, _workspace, (nuint)_workspaceBytes, _stream);
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

    /// <summary>What decides a product's algorithm: the epilogue, the operation, the types, the layouts and the operands' alignments.</summary>
    private readonly record struct Shape(BlasEpilogue Epilogue, BlasOperation TransA, BlasOperation TransB, int M, int N, int K, BlasDataType Type, BlasDataType DType,
        int Lda, int Ldb, int Ldd, int LdAux, uint AlignA, uint AlignB, uint AlignD, uint AlignBias, uint AlignAux)
    {
        public override string ToString() => $"{Epilogue} {TransA}/{TransB} m={M} n={N} k={K} {Type}->{DType}";
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
        public nint D;
        public Algorithm Algorithm;

        public static Plan? TryCreate(Api api, nint handle, Shape s, float* bias, void* aux, ulong workspaceBytes)
        {
            var plan = new Plan();
            nint preference = 0;
            try
            {
                int transA = (int)s.TransA, transB = (int)s.TransB;
                uint epilogue = (uint)s.Epilogue;
                int biasType = Float32;
                long ldAux = s.LdAux;
                nint desc = 0, layoutA = 0, layoutB = 0, layoutD = 0;
                int type = (int)s.Type;
                bool ok = api.DescCreate(&desc, ComputeFloat32, Float32) == 0;
                plan.Desc = desc;
                ok = ok && api.DescSetAttribute(desc, DescTransA, &transA, sizeof(int)) == 0
                    && api.DescSetAttribute(desc, DescTransB, &transB, sizeof(int)) == 0
                    && api.DescSetAttribute(desc, DescEpilogue, &epilogue, sizeof(uint)) == 0
                    && api.DescSetAttribute(desc, DescBiasPointer, &bias, (nuint)sizeof(void*)) == 0
                    // The bias is fp32 (the master weights'); cuBLASLt takes it to be of D's type unless told.
                    && api.DescSetAttribute(desc, DescBiasDataType, &biasType, sizeof(int)) == 0;
                if (s.Epilogue == BlasEpilogue.GeluAuxBias)
                {
                    ok = ok && api.DescSetAttribute(desc, DescAuxPointer, &aux, (nuint)sizeof(void*)) == 0
                        && api.DescSetAttribute(desc, DescAuxLd, &ldAux, sizeof(long)) == 0;
                }

                // Layouts as stored: op(A) is m x k, so A is k x m when transposed; C and D are m x n.
                ok = ok && api.LayoutCreate(&layoutA, type, (ulong)(s.TransA == BlasOperation.None ? s.M : s.K), (ulong)(s.TransA == BlasOperation.None ? s.K : s.M), s.Lda) == 0;
                plan.A = layoutA;
                ok = ok && api.LayoutCreate(&layoutB, type, (ulong)(s.TransB == BlasOperation.None ? s.K : s.N), (ulong)(s.TransB == BlasOperation.None ? s.N : s.K), s.Ldb) == 0;
                plan.B = layoutB;
                ok = ok && api.LayoutCreate(&layoutD, (int)s.DType, (ulong)s.M, (ulong)s.N, s.Ldd) == 0;
                plan.D = layoutD;
                ok = ok && api.PreferenceCreate(&preference) == 0
                    && api.PreferenceSetAttribute(preference, PreferenceMaxWorkspace, &workspaceBytes, sizeof(ulong)) == 0;
                uint[] alignments = [s.AlignA, s.AlignB, s.AlignD, s.AlignD];
                for (int i = 0; ok && i < alignments.Length; i++)
                {
                    uint alignment = alignments[i];
                    ok = api.PreferenceSetAttribute(preference, PreferenceMinAlignmentA + i, &alignment, sizeof(uint)) == 0;
                }

                HeuristicResult result = default;
                int found = 0;
                ok = ok && api.AlgoGetHeuristic(handle, desc, layoutA, layoutB, layoutD, layoutD, preference, 1, &result, &found) == 0
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
            foreach (nint layout in (nint[])[A, B, D])
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
