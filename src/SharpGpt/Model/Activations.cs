using SharpGpt.Kernels;

namespace SharpGpt.Model;

/// <summary>
/// Everything the forward keeps for the backward, plus the backward's scratch, carved out of one
/// buffer allocated for a (B, T) batch and reused step after step.
/// </summary>
internal sealed unsafe class Activations : IDisposable
{
    private readonly NativeBuffer _floats;
    private readonly NativeBuffer _ids;
    private readonly long _vp;
    private NativeBuffer? _fullLogits;

    public Activations(GptConfig config, IGptKernels kernels, int b, int t)
    {
        B = b;
        T = t;
        _vp = config.PaddedVocabSize;
        ClassifierRows = ClassifierChunkRows(config, b, t);
        long[] sizes = Sizes(config, kernels, b, t);
        long total = 0;
        foreach (long s in sizes)
        {
            total += s;
        }

        _floats = new NativeBuffer(total);
        float* p = _floats.Pointer;
        float* Next(long size)
        {
            float* r = p;
            p += size;
            return r;
        }

        int k = 0;
        Encoded = Next(sizes[k++]);
        Ln1 = Next(sizes[k++]);
        Ln1Mean = Next(sizes[k++]);
        Ln1Rstd = Next(sizes[k++]);
        Qkv = Next(sizes[k++]);
        Atty = Next(sizes[k++]);
        AttState = Next(sizes[k++]);
        Residual2 = Next(sizes[k++]);
        Ln2 = Next(sizes[k++]);
        Ln2Mean = Next(sizes[k++]);
        Ln2Rstd = Next(sizes[k++]);
        Fch = Next(sizes[k++]);
        FchGelu = Next(sizes[k++]);
        Residual3 = Next(sizes[k++]);
        LnF = Next(sizes[k++]);
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
        AttStateSize = kernels.AttentionStateSize(b, t, config.NumHeads);
        Bytes = total * sizeof(float);

        _ids = new NativeBuffer(2L * b * t);
        Inputs = (int*)_ids.Pointer;
        Targets = Inputs + ((long)b * t);
    }

    /// <summary>Bytes the activations of a (B, T) batch take, for memory planning.</summary>
    // About 64 MiB of logits per chunk: big enough that the lm_head products stay efficient.
    private static int ClassifierChunkRows(GptConfig config, int b, int t) =>
        (int)Math.Min((long)b * t, Math.Max(64, (16L << 20) / config.PaddedVocabSize));

    public static long BytesFor(GptConfig config, IGptKernels kernels, int b, int t)
        => (Sizes(config, kernels, b, t).Sum() * sizeof(float)) + (2L * b * t * sizeof(int));

    private static long[] Sizes(GptConfig config, IGptKernels kernels, int b, int t)
    {
        long bt = (long)b * t, c = config.Channels, l = config.NumLayers, vp = config.PaddedVocabSize;
        long attState = kernels.AttentionStateSize(b, t, config.NumHeads);
        return
            [
                bt * c,             // Encoded: the residual stream entering layer 0
                l * bt * c,         // Ln1
                l * bt,             // Ln1Mean
                l * bt,             // Ln1Rstd
                l * bt * 3 * c,     // Qkv
                l * bt * c,         // Atty
                l * attState,       // AttState
                l * bt * c,         // Residual2
                l * bt * c,         // Ln2
                l * bt,             // Ln2Mean
                l * bt,             // Ln2Rstd
                l * bt * 4 * c,     // Fch
                l * bt * 4 * c,     // FchGelu
                l * bt * c,         // Residual3
                bt * c,             // LnF
                bt,                 // LnFMean
                bt,                 // LnFRstd
                ClassifierChunkRows(config, b, t) * vp, // ClassifierChunk: logits of a chunk of rows, then their gradient
                bt,                 // Losses
                bt,                 // Lse
                bt * c,             // Projection: attproj / fcproj output before the residual add
                bt * c,             // DResidual
                bt * c,             // DLn
                bt * 3 * c,         // DQkv
                bt * c,             // DAtty
                bt * 4 * c,         // DFch: the GELU derivative is applied inside the fc_proj backward GEMM
                kernels.AttentionScratchSize(b, t, config.Channels, config.NumHeads),
            ];
    }

    public int B { get; }

    public int T { get; }

    public long Bytes { get; }

    public long AttStateSize { get; }

    public int* Inputs { get; }

    public int* Targets { get; }

    public float* Encoded { get; }
    public float* Ln1 { get; }
    public float* Ln1Mean { get; }
    public float* Ln1Rstd { get; }
    public float* Qkv { get; }
    public float* Atty { get; }
    public float* AttState { get; }
    public float* Residual2 { get; }
    public float* Ln2 { get; }
    public float* Ln2Mean { get; }
    public float* Ln2Rstd { get; }
    public float* Fch { get; }
    public float* FchGelu { get; }
    public float* Residual3 { get; }
    public float* LnF { get; }
    public float* LnFMean { get; }
    public float* LnFRstd { get; }
    /// <summary>Logits (rows, Vp) of one chunk of the classifier, then their gradient.</summary>
    public float* ClassifierChunk { get; }

    /// <summary>Rows per classifier chunk: the whole [B*T, V] logits never exist at once during training.</summary>
    public int ClassifierRows { get; }

    /// <summary>The whole (B*T, Vp) logits, allocated on first use (verification, inference).</summary>
    public float* FullLogits => (_fullLogits ??= new NativeBuffer((long)B * T * _vp)).Pointer;
    public float* Losses { get; }
    public float* Lse { get; }
    public float* Projection { get; }
    public float* DResidual { get; }
    public float* DLn { get; }
    public float* DQkv { get; }
    public float* DAtty { get; }
    public float* DFch { get; }
    public float* AttScratch { get; }

    public void Dispose()
    {
        _floats.Dispose();
        _ids.Dispose();
        _fullLogits?.Dispose();
    }
}
