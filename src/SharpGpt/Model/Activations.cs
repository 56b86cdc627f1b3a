using SharpGpt.Kernels;

namespace SharpGpt.Model;

/// <summary>
/// Everything the forward keeps for the backward, plus the backward's scratch, carved out of one
/// buffer of the backend's memory allocated for a (B, T) batch and reused step after step. In bf16
/// precision the inputs of the matmuls (Ln1, Atty, Ln2, FchGelu, LnF) are kept in bf16, taking half the space.
/// </summary>
internal sealed unsafe class Activations : IDisposable
{
    private readonly IDeviceMemory _memory;
    private readonly DeviceBuffer _floats;
    private readonly DeviceBuffer _ids;
    private readonly long _vp;
    private DeviceBuffer? _fullLogits;

    public Activations(GptConfig config, IGptKernels kernels, int b, int t, Precision precision)
    {
        _memory = kernels;
        B = b;
        T = t;
        _vp = config.PaddedVocabSize;
        ClassifierRows = ClassifierChunkRows(config, kernels, b, t);
        long[] sizes = Sizes(config, kernels, b, t, precision);
        long total = 0;
        foreach (long s in sizes)
        {
            total += s;
        }

        _floats = kernels.Allocate(total);
        float* p = _floats.Pointer;
        float* Next(long size)
        {
            float* r = p;
            p += size;
            return r;
        }

        // Sizes in floats: a bf16 tensor takes half as many, rounded up.
        TypedPointer NextMatmulInput(long size) => precision == Precision.Bf16 ? (ushort*)Next(size) : Next(size);

        int k = 0;
        Encoded = Next(sizes[k++]);
        Ln1 = NextMatmulInput(sizes[k++]);
        Ln1Mean = Next(sizes[k++]);
        Ln1Rstd = Next(sizes[k++]);
        Qkv = Next(sizes[k++]);
        Atty = NextMatmulInput(sizes[k++]);
        AttState = Next(sizes[k++]);
        Residual2 = Next(sizes[k++]);
        Ln2 = NextMatmulInput(sizes[k++]);
        Ln2Mean = Next(sizes[k++]);
        Ln2Rstd = Next(sizes[k++]);
        FchGeluState = Next(sizes[k++]);
        FchGelu = NextMatmulInput(sizes[k++]);
        Residual3 = Next(sizes[k++]);
        LnF = NextMatmulInput(sizes[k++]);
        LnFMean = Next(sizes[k++]);
        LnFRstd = Next(sizes[k++]);
        ClassifierChunk = Next(sizes[k++]);
        Losses = Next(sizes[k++]);
        Lse = Next(sizes[k++]);
        Projection = Next(sizes[k++]);
        DResidual = Next(sizes[k++]);
        DLn = Next(sizes[k++]);
        DQkv = Next(sizes[k++]);
        DAtty = Next(sizes[k++]);
        DFch = Next(sizes[k++]);
        AttScratch = Next(sizes[k++]);
        AttentionOutput = precision == Precision.Bf16 ? Next(sizes[k++]) : null;
        AttStateSize = kernels.AttentionStateSize(b, t, config.NumHeads, precision);
        Bytes = total * sizeof(float);

        _ids = kernels.Allocate(3L * b * t);
        Inputs = (int*)_ids.Pointer;
        Targets = Inputs + ((long)b * t);
        RowIndices = Targets + ((long)b * t);
    }

    /// <summary>Rows per classifier chunk: the backend's chunk of logits, at least 64 rows, at most the batch.</summary>
    public static int ClassifierChunkRows(GptConfig config, IGptKernels kernels, int b, int t) =>
        (int)Math.Min((long)b * t, Math.Max(64, kernels.ClassifierChunkFloats / config.PaddedVocabSize));

    /// <summary>Bytes the activations of a (B, T) batch take, for memory planning, with the scratch the
    /// backend keeps for itself.</summary>
    public static long BytesFor(GptConfig config, IGptKernels kernels, int b, int t, Precision precision = Precision.Fp32)
        => (Sizes(config, kernels, b, t, precision).Sum() * sizeof(float)) + (3L * b * t * sizeof(int)) + kernels.WorkspaceBytes(config, b, t, precision);

    private static long[] Sizes(GptConfig config, IGptKernels kernels, int b, int t, Precision precision)
    {
        long bt = (long)b * t, c = config.Channels, l = config.NumLayers, vp = config.PaddedVocabSize;
        long attState = kernels.AttentionStateSize(b, t, config.NumHeads, precision);
        bool bf16 = precision == Precision.Bf16;
        long MatmulInput(long elements) => bf16 ? (elements + 1) / 2 : elements;
        long[] sizes =
            [
                bt * c,             // Encoded: the residual stream entering layer 0
                MatmulInput(l * bt * c), // Ln1
                l * bt,             // Ln1Mean
                l * bt,             // Ln1Rstd
                l * bt * 3 * c,     // Qkv
                MatmulInput(l * bt * c), // Atty
                l * attState,       // AttState
                l * bt * c,         // Residual2
                MatmulInput(l * bt * c), // Ln2
                l * bt,             // Ln2Mean
                l * bt,             // Ln2Rstd
                l * bt * 4 * c,     // FchGeluState: what the backend's GELU backward needs of the fc output (CPU: GELU'(x); GPU: x)
                MatmulInput(l * bt * 4 * c), // FchGelu
                l * bt * c,         // Residual3
                MatmulInput(bt * c), // LnF
                bt,                 // LnFMean
                bt,                 // LnFRstd
                ClassifierChunkRows(config, kernels, b, t) * vp, // ClassifierChunk: logits of a chunk of rows, then their gradient
                bt,                 // Losses
                bt,                 // Lse
                bt * c,             // Projection: attproj / fcproj output before the residual add
                bt * c,             // DResidual
                bt * c,             // DLn
                bt * 3 * c,         // DQkv
                bt * c,             // DAtty
                bt * 4 * c,         // DFch: the GELU derivative is applied inside the fc_proj backward GEMM
                kernels.AttentionScratchSize(b, t, config.Channels, config.NumHeads, precision),
            ];

        // bf16: the attention kernels work in fp32, so its output passes through one fp32 (N,C) buffer.
        return bf16 ? [.. sizes, bt * c] : sizes;
    }

    public int B { get; }

    public int T { get; }

    public long Bytes { get; }

    public long AttStateSize { get; }

    public int* Inputs { get; }

    public int* Targets { get; }

    /// <summary>Rows of the final LayerNorm that ScoreTargets gathers (B*T at most).</summary>
    public int* RowIndices { get; }

    public float* Encoded { get; }
    public TypedPointer Ln1 { get; }
    public float* Ln1Mean { get; }
    public float* Ln1Rstd { get; }
    public float* Qkv { get; }
    public TypedPointer Atty { get; }
    public float* AttState { get; }
    public float* Residual2 { get; }
    public TypedPointer Ln2 { get; }
    public float* Ln2Mean { get; }
    public float* Ln2Rstd { get; }
    public float* FchGeluState { get; }
    public TypedPointer FchGelu { get; }
    public float* Residual3 { get; }
    public TypedPointer LnF { get; }
    public float* LnFMean { get; }
    public float* LnFRstd { get; }
    /// <summary>Logits (rows, Vp) of one chunk of the classifier, then their gradient.</summary>
    public float* ClassifierChunk { get; }

    /// <summary>Rows per classifier chunk: the whole [B*T, V] logits never exist at once during training.</summary>
    public int ClassifierRows { get; }

    /// <summary>The whole (B*T, Vp) logits, allocated on first use (verification, inference).</summary>
    public float* FullLogits => (_fullLogits ??= _memory.Allocate((long)B * T * _vp)).Pointer;
    public float* Losses { get; }
    public float* Lse { get; }
    public float* Projection { get; }
    public float* DResidual { get; }
    public float* DLn { get; }
    public float* DQkv { get; }
    public float* DAtty { get; }
    public float* DFch { get; }
    public float* AttScratch { get; }

    /// <summary>bf16 only (null in fp32, where the attention writes Atty itself): the fp32 (N,C) output the
    /// attention kernels write and their backward reads, shared by the layers; Atty is converted from and to it.</summary>
    public float* AttentionOutput { get; }

    public void Dispose()
    {
        _floats.Dispose();
        _ids.Dispose();
        _fullLogits?.Dispose();
    }
}
