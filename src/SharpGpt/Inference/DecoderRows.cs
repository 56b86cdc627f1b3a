using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Inference;

/// <summary>The activations a KV-cache decoder runs its rows through, for up to <c>rows</c> rows at once (a prefill's
/// block, or a batch's tokens), and the logits of up to <c>logitRows</c> rows: one allocation, carved in order.</summary>
internal sealed unsafe class DecoderRows : IDisposable
{
    private readonly DeviceBuffer _buffer;

    public DecoderRows(IGptKernels kernels, GptConfig config, long rows, long logitRows)
    {
        long rc = rows * config.Channels;
        long[] sizes = [rc, rc, rc, 3 * rc, rc, rc, 4 * rc, 4 * rc, rows, rows, kernels.CachedAttentionScratchSize(config.NumHeads, config.MaxSeqLen), logitRows * config.PaddedVocabSize];
        _buffer = kernels.Allocate(sizes.Sum());
        float* p = _buffer.Pointer;
        float*[] parts = new float*[sizes.Length];
        for (int i = 0; i < sizes.Length; i++)
        {
            parts[i] = p;
            p += sizes[i];
        }

        X = parts[0];
        X2 = parts[1];
        Ln = parts[2];
        Qkv = parts[3];
        Atty = parts[4];
        Proj = parts[5];
        Fch = parts[6];
        FchGelu = parts[7];
        Mean = parts[8];
        Rstd = parts[9];
        Scores = parts[10];
        Logits = parts[11];
    }

    /// <summary>(rows, C) each: the residual stream and its second half, a LayerNorm's output, attention's output, a projection.</summary>
    public float* X { get; }

    public float* X2 { get; }

    public float* Ln { get; }

    /// <summary>(rows, 3C).</summary>
    public float* Qkv { get; }

    public float* Atty { get; }

    public float* Proj { get; }

    /// <summary>(rows, 4C) each: the fc layer's output before and after GELU.</summary>
    public float* Fch { get; }

    public float* FchGelu { get; }

    /// <summary>(rows) each: a LayerNorm's statistics.</summary>
    public float* Mean { get; }

    public float* Rstd { get; }

    /// <summary>Cached attention's scratch.</summary>
    public float* Scores { get; }

    /// <summary>(logitRows, Vp).</summary>
    public float* Logits { get; }

    public void Dispose() => _buffer.Dispose();
}
