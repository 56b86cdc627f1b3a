using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Inference;

/// <summary>
/// Incremental GPT-2 inference: each layer's keys and values are kept in a cache [maxT, C], so a
/// new token costs one row through the model instead of a forward over the whole sequence.
/// Reads the model's parameters and runs its kernel backend, on whatever device it is; all buffers
/// are allocated once here, and each step brings only the next token's logits to the host.
/// <para>
/// Past the block size the context slides: when the cache is full, the oldest token is dropped
/// and the last block_size - 1 tokens are re-prefilled (one batched forward) before the new token
/// is added, which is what a full recompute over the last block_size tokens would give. From then
/// on every token pays that re-prefill, the cost of decoding without a cache.
/// </para>
/// </summary>
internal sealed unsafe class KvCacheDecoder : IDisposable
{
    private readonly GptNetwork _model;
    private readonly IGptKernels _k;
    private readonly int _maxT, _c, _nh, _v, _vp, _layers;
    private readonly DeviceBuffer _keys, _values;     // (L, maxT, C) each
    private readonly DecoderRows _rows;
    private readonly DeviceBuffer _tokenBuffer;       // the ids at positions 0..Length-1, in the backend's memory
    private readonly int* _tokens;
    private readonly int[] _hostTokens;               // the same ids on the host
    private readonly float[] _hostLogits;

    public KvCacheDecoder(GptNetwork model)
    {
        _model = model;
        _k = model.Kernels;
        var cfg = model.Config;
        (_maxT, _c, _nh, _v, _vp, _layers) = (cfg.MaxSeqLen, cfg.Channels, cfg.NumHeads, cfg.VocabSize, cfg.PaddedVocabSize, cfg.NumLayers);
        long tc = (long)_maxT * _c;
        _keys = _k.Allocate(_layers * tc);
        _values = _k.Allocate(_layers * tc);

        // Row buffers for a whole block (a prefill).
        _rows = new DecoderRows(_k, cfg, _maxT, 1);
        _tokenBuffer = _k.Allocate(_maxT);
        _tokens = (int*)_tokenBuffer.Pointer;
        _hostTokens = new int[_maxT];
        _hostLogits = new float[_v];
    }

    public GptConfig Config => _model.Config;

    /// <summary>Tokens in the context (and in the cache): at most the block size.</summary>
    public int Length { get; private set; }

    /// <summary>How many times the context has slid past the block size since the last reset.</summary>
    public int Slides { get; private set; }

    /// <summary>The tokens in the context, oldest first.</summary>
    public ReadOnlySpan<int> Context => _hostTokens.AsSpan(0, Length);

    /// <summary>Empties the context; the cache is overwritten as new tokens arrive.</summary>
    public void Reset()
    {
        Length = 0;
        Slides = 0;
    }

    /// <summary>Resets, runs the prompt as one batched forward and returns the logits (V) for the
    /// token after it. A prompt longer than the block size keeps only its last block_size tokens.</summary>
    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> prompt)
    {
        if (prompt.IsEmpty)
        {
            throw new ArgumentException("The prompt needs at least one token (GPT-2 starts from <|endoftext|>).", nameof(prompt));
        }

        for (int i = 0; i < prompt.Length; i++)
        {
            CheckToken(prompt[i], i);
        }

        Reset();
        var kept = prompt.Length > _maxT ? prompt[^_maxT..] : prompt;
        kept.CopyTo(_hostTokens);
        Run(0, kept.Length);
        return _hostLogits;
    }

    /// <summary>Adds one token at the next position and returns the logits (V) for the token after
    /// it; valid until the next call. Slides the context when the block is full.</summary>
    public ReadOnlySpan<float> Append(int token)
    {
        CheckToken(token, Length);
        if (Length < _maxT)
        {
            _hostTokens[Length] = token;
            Run(Length, 1);
            return _hostLogits;
        }

        // Full: drop the oldest token and recompute the cache for the shifted positions.
        var window = _hostTokens.AsSpan();
        window[1..].CopyTo(window);
        window[^1] = token;
        Slides++;
        Run(0, _maxT);
        return _hostLogits;
    }

    private void CheckToken(int token, int position)
    {
        if ((uint)token >= (uint)_v)
        {
            throw new ArgumentOutOfRangeException(nameof(token), $"Token id {token} at position {position} is outside the model's vocabulary [0, {_v}).");
        }
    }

    // Runs the tokens at positions start..start+n-1 through the model, filling their cache rows,
    // and brings the logits of the last one to _hostLogits.
    private void Run(int start, int n)
    {
        var p = _model.Params;
        int c = _c;
        long nc = (long)n * c, tc = (long)_maxT * c;
        _k.Upload(_tokens + start, _hostTokens.AsSpan(start, n));

        // wpe offset by start: the encoder takes positions 0..n-1 of the table it is given.
        _k.EncoderForward(_rows.X, _tokens + start, p.Wte, p.Wpe + ((long)start * c), 1, n, c);          // (n,C)
        for (int l = 0; l < _layers; l++)
        {
            float* keys = _keys.Pointer + (l * tc), values = _values.Pointer + (l * tc);
            _k.LayerNormForward(_rows.Ln, _rows.Mean, _rows.Rstd, _rows.X, p.Ln1W + (l * c), p.Ln1B + (l * c), n, c);
            _k.MatmulForward(_rows.Qkv, _rows.Ln, p.QkvW + (l * 3L * c * c), p.QkvB + (l * 3 * c), n, c, 3 * c);   // (n,3C)
            _k.CachedAttentionForward(_rows.Atty, _rows.Qkv, keys, values, _rows.Scores, start, n, c, _nh, _maxT);          // (n,C), cache rows filled
            _k.MatmulForward(_rows.Proj, _rows.Atty, p.AttProjW + ((long)l * c * c), p.AttProjB + (l * c), n, c, c);
            _k.ResidualForward(_rows.X2, _rows.X, _rows.Proj, nc);
            _k.LayerNormForward(_rows.Ln, _rows.Mean, _rows.Rstd, _rows.X2, p.Ln2W + (l * c), p.Ln2B + (l * c), n, c);
            _k.MatmulForward(_rows.Fch, _rows.Ln, p.FcW + (l * 4L * c * c), p.FcB + (l * 4 * c), n, c, 4 * c);       // (n,4C)
            _k.GeluForward(_rows.FchGelu, _rows.Fch, nc * 4);
            _k.MatmulForward(_rows.Proj, _rows.FchGelu, p.FcProjW + (l * 4L * c * c), p.FcProjB + (l * c), n, 4 * c, c);
            _k.ResidualForward(_rows.X, _rows.X2, _rows.Proj, nc);
        }

        // Only the last row's logits are needed to pick the next token.
        float* last = _rows.X + ((long)(n - 1) * c);
        _k.LayerNormForward(_rows.Ln, _rows.Mean, _rows.Rstd, last, p.LnFW, p.LnFB, 1, c);
        _k.MatmulForward(_rows.Logits, _rows.Ln, p.Wte, null, 1, c, _vp);                                       // (1,Vp)
        _k.Download(_hostLogits.AsSpan(), _rows.Logits);
        Length = start + n;
    }

    public void Dispose()
    {
        _keys.Dispose();
        _values.Dispose();
        _rows.Dispose();
        _tokenBuffer.Dispose();
    }
}
