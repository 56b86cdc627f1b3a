using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Inference;

/// <summary>
/// Incremental GPT-2 inference for several sequences at once, each in a slot with its own key/value cache
/// (L, maxT, C) and position. <see cref="Prefill(ReadOnlySpan{int}, IReadOnlyList{int[]})"/> runs the prompts of
/// joining slots, one forward over all their rows; <see cref="Append"/> then adds one token to each of several slots
/// in one forward over all of them. Either way the encoder, LayerNorms, matmuls, GELU and residuals run over all the
/// rows together (the weights are read once for all of them), and each sequence's rows attend over its own slot's
/// cache only. Built from <see cref="IGptKernels"/> operations only, so it runs on any backend.
/// <para>Exactness: every operation but the matmul works row by row, and the CPU's GEMM gives each row of its
/// output the same sum, in the same order, whatever the number of rows and wherever the row stands in them (its
/// k blocking does not depend on M; GemmTests checks this). So on the CPU a slot's logits, and its greedy
/// tokens, are bit for bit those of <see cref="KvCacheDecoder"/> decoding the same prompt alone.</para>
/// <para>Past the block size a slot's context slides as <see cref="KvCacheDecoder"/>'s does: the slot is
/// re-prefilled on its own over its last block_size tokens.</para>
/// </summary>
internal sealed unsafe class BatchKvCacheDecoder : IDisposable
{
    private readonly GptNetwork _model;
    private readonly IGptKernels _k;
    private readonly int _maxT, _c, _nh, _v, _vp, _layers;
    private readonly Slot[] _slots;
    private readonly DecoderRows _rows;
    private readonly DeviceBuffer _tokenBuffer;       // the ids of the rows of a forward, in the backend's memory
    private readonly int* _tokens;
    private readonly float[] _hostLogits;             // (slots, Vp): the logits of a prefill's or an append's rows
    private readonly int[] _rowTokens;                               // the ids of a forward's rows, staged on the host
    private readonly int[] _batchSlots, _batchPositions, _rowOf;     // an append's rows: slot, position; a caller's index -> host row
    private readonly int[] _groupSlots, _groupLengths, _groupOffsets; // a prefill's prompts: slot, tokens, first row
    private readonly int[] _slideIndices;                            // an append's slots whose blocks are full

    /// <param name="slots">The most sequences decoded at once.</param>
    public BatchKvCacheDecoder(GptNetwork model, int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _model = model;
        _k = model.Kernels;
        var cfg = model.Config;
        (_maxT, _c, _nh, _v, _vp, _layers) = (cfg.MaxSeqLen, cfg.Channels, cfg.NumHeads, cfg.VocabSize, cfg.PaddedVocabSize, cfg.NumLayers);
        _slots = new Slot[slots];
        for (int i = 0; i < slots; i++)
        {
            _slots[i] = new Slot(_maxT);
        }

        // Row buffers for a whole block (a prefill) or a whole batch, whichever is more.
        long rows = Math.Max(_maxT, slots);
        _rows = new DecoderRows(_k, cfg, rows, slots);
        _tokenBuffer = _k.Allocate(rows);
        _tokens = (int*)_tokenBuffer.Pointer;
        _hostLogits = new float[slots * (long)_vp];
        Rows = (int)rows;
        _rowTokens = new int[rows];
        _batchSlots = new int[slots];
        _batchPositions = new int[slots];
        _rowOf = new int[slots];
        _groupSlots = new int[slots];
        _groupLengths = new int[slots];
        _groupOffsets = new int[slots];
        _slideIndices = new int[slots];
    }

    public GptConfig Config => _model.Config;

    /// <summary>The most sequences decoded at once.</summary>
    public int SlotCount => _slots.Length;

    /// <summary>Tokens in a slot's context (and in its cache): at most the block size.</summary>
    public int Length(int slot) => _slots[slot].Length;

    /// <summary>How many times a slot's context has slid past the block size since its prefill.</summary>
    public int Slides(int slot) => _slots[slot].Slides;

    /// <summary>The most rows one forward takes: the block size, or the slot count when it is more. The prompts of one
    /// <see cref="Prefill(ReadOnlySpan{int}, IReadOnlyList{int[]})"/> may not hold more tokens than this.</summary>
    public int Rows { get; }

    /// <summary>Empties a slot's context and runs the prompt through the model on its own (one forward over its
    /// rows), filling the slot's cache; returns the logits (V) for the token after it, valid until the next call.
    /// A prompt longer than the block size keeps only its last block_size tokens.</summary>
    public ReadOnlySpan<float> Prefill(int slot, ReadOnlySpan<int> prompt)
    {
        Prefill([slot], [prompt.ToArray()]);
        return Logits(0);
    }

    /// <summary>Empties the slots' contexts and runs their prompts through the model in one forward over all their
    /// rows, each attending over its own slot's cache, so each slot's logits are those of its prompt alone;
    /// <see cref="Logits"/>(i) then gives the logits for the token after prompts[i]. A prompt longer than the block
    /// size keeps only its last block_size tokens; the prompts kept may hold at most <see cref="Rows"/> tokens in all.</summary>
    public void Prefill(ReadOnlySpan<int> slots, IReadOnlyList<int[]> prompts)
    {
        if (slots.Length != prompts.Count || slots.Length == 0 || slots.Length > _slots.Length)
        {
            throw new ArgumentException($"Expected a prompt for each slot (1 to {_slots.Length}), got {slots.Length} slots and {prompts.Count} prompts.", nameof(prompts));
        }

        int rows = 0;
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i].Length == 0)
            {
                throw new ArgumentException("The prompt needs at least one token (GPT-2 starts from <|endoftext|>).", nameof(prompts));
            }

            for (int j = 0; j < prompts[i].Length; j++)
            {
                CheckToken(prompts[i][j], j);
            }

            rows += Math.Min(prompts[i].Length, _maxT);
        }

        if (rows > Rows)
        {
            throw new ArgumentException($"The prompts hold {rows} tokens; one prefill takes at most {Rows}.", nameof(prompts));
        }

        for (int i = 0; i < slots.Length; i++)
        {
            var s = _slots[slots[i]];
            var kept = prompts[i].Length > _maxT ? prompts[i].AsSpan(^_maxT..) : prompts[i];
            kept.CopyTo(s.Tokens);
            s.Length = 0;
            s.Slides = 0;
            _groupSlots[i] = slots[i];
            _groupLengths[i] = kept.Length;
            _rowOf[i] = i;
        }

        RunPrefills(slots.Length, 0);
    }

    /// <summary>Adds tokens[i] at the next position of slots[i], for every i, in one forward over all the slots
    /// (a slot whose block is full slides on its own after); <see cref="Logits"/>(i) then gives each one's logits.</summary>
    public void Append(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens)
    {
        if (slots.Length != tokens.Length || slots.Length > _slots.Length)
        {
            throw new ArgumentException($"Expected as many tokens as slots (at most {_slots.Length}), got {slots.Length} slots and {tokens.Length} tokens.", nameof(tokens));
        }

        for (int i = 0; i < slots.Length; i++)
        {
            CheckToken(tokens[i], _slots[slots[i]].Length);
        }

        int rows = 0, slides = 0;
        for (int i = 0; i < slots.Length; i++)
        {
            var s = _slots[slots[i]];
            if (s.Length < _maxT)
            {
                s.Tokens[s.Length] = tokens[i];
                _batchSlots[rows] = slots[i];
                _batchPositions[rows] = s.Length;
                _rowOf[i] = rows++;
            }
            else
            {
                _slideIndices[slides++] = i;
            }
        }

        if (rows > 0)
        {
            RunBatch(rows);
        }

        // Full blocks slide, each on its own (as KvCacheDecoder.Append does): its last block_size tokens re-prefilled.
        for (int j = 0; j < slides; j++)
        {
            int i = _slideIndices[j];
            var s = _slots[slots[i]];
            var window = s.Tokens.AsSpan();
            window[1..].CopyTo(window);
            window[^1] = tokens[i];
            s.Slides++;
            _groupSlots[0] = slots[i];
            _groupLengths[0] = _maxT;
            RunPrefills(1, rows + j);
            _rowOf[i] = rows + j;
        }
    }

    /// <summary>The logits (V) for the token after the one <see cref="Append"/> added at its index <paramref name="i"/>,
    /// or after the prompt <see cref="Prefill(ReadOnlySpan{int}, IReadOnlyList{int[]})"/> read at index i; valid until
    /// the next call.</summary>
    public ReadOnlySpan<float> Logits(int i) => _hostLogits.AsSpan(_rowOf[i] * _vp, _v);

    private void CheckToken(int token, int position)
    {
        if ((uint)token >= (uint)_v)
        {
            throw new ArgumentOutOfRangeException(nameof(token), $"Token id {token} at position {position} is outside the model's vocabulary [0, {_v}).");
        }
    }

    // The first `count` slots of _groupSlots, whose first _groupLengths tokens are their contexts, from position 0,
    // in one forward: per slot the same operations on the same rows as KvCacheDecoder.Run over its prompt alone. The
    // logits after each one's last token go to rows hostRow.. of _hostLogits.
    private void RunPrefills(int count, int hostRow)
    {
        var p = _model.Params;
        int c = _c, rows = 0;
        for (int i = 0; i < count; i++)
        {
            var s = _slots[_groupSlots[i]];
            s.EnsureCache(_k, (long)_layers * _maxT * _c);
            s.Tokens.AsSpan(0, _groupLengths[i]).CopyTo(_rowTokens.AsSpan(rows));
            _groupOffsets[i] = rows;
            rows += _groupLengths[i];
        }

        _k.Upload(_tokens, _rowTokens.AsSpan(0, rows));
        for (int i = 0; i < count; i++)
        {
            long offset = _groupOffsets[i];
            _k.EncoderForward(_rows.X + (offset * c), _tokens + offset, p.Wte, p.Wpe, 1, _groupLengths[i], c);          // (n,C)
        }

        Layers(rows, count, prefill: true);

        // Only each prompt's last row is needed: gathered into rows 0..count-1 of _rows.X2 (free after the layers).
        for (int i = 0; i < count; i++)
        {
            long last = _groupOffsets[i] + _groupLengths[i] - 1;
            _k.CopyOnDevice(_rows.X2 + ((long)i * c), _rows.X + (last * c), (long)c * sizeof(float));
        }

        _k.LayerNormForward(_rows.Ln, _rows.Mean, _rows.Rstd, _rows.X2, p.LnFW, p.LnFB, count, c);
        _k.MatmulForward(_rows.Logits, _rows.Ln, p.Wte, null, count, c, _vp);                                                 // (count,Vp)
        _k.Download(_hostLogits.AsSpan(hostRow * _vp, count * _vp), _rows.Logits);
        for (int i = 0; i < count; i++)
        {
            _slots[_groupSlots[i]].Length = _groupLengths[i];
        }
    }

    // One token for each of the first `rows` entries of _batchSlots, at its slot's next position. The logits of
    // every row go to the first rows of _hostLogits.
    private void RunBatch(int rows)
    {
        var p = _model.Params;
        int c = _c;
        for (int r = 0; r < rows; r++)
        {
            var s = _slots[_batchSlots[r]];
            s.EnsureCache(_k, (long)_layers * _maxT * _c);
            _rowTokens[r] = s.Tokens[_batchPositions[r]];
        }

        _k.Upload(_tokens, _rowTokens.AsSpan(0, rows));

        // Each row at its own position: the encoder takes positions 0..t-1 of the wpe it is given.
        for (int r = 0; r < rows; r++)
        {
            _k.EncoderForward(_rows.X + ((long)r * c), _tokens + r, p.Wte, p.Wpe + ((long)_batchPositions[r] * c), 1, 1, c);
        }

        Layers(rows, rows, prefill: false);
        _k.LayerNormForward(_rows.Ln, _rows.Mean, _rows.Rstd, _rows.X, p.LnFW, p.LnFB, rows, c);
        _k.MatmulForward(_rows.Logits, _rows.Ln, p.Wte, null, rows, c, _vp);                             // (B,Vp)
        _k.Download(_hostLogits.AsSpan(0, rows * _vp), _rows.Logits);
        for (int r = 0; r < rows; r++)
        {
            _slots[_batchSlots[r]].Length = _batchPositions[r] + 1;
        }
    }

    // The transformer blocks over `rows` rows of _rows.X, each sequence's rows attending over its own slot's cache: the
    // prompts of the first `sequences` group slots (prefill), or one row of each of the first `sequences` batch slots.
    private void Layers(int rows, int sequences, bool prefill)
    {
        var p = _model.Params;
        int c = _c;
        long nc = (long)rows * c, tc = (long)_maxT * c;
        for (int l = 0; l < _layers; l++)
        {
            _k.LayerNormForward(_rows.Ln, _rows.Mean, _rows.Rstd, _rows.X, p.Ln1W + (l * c), p.Ln1B + (l * c), rows, c);
            _k.MatmulForward(_rows.Qkv, _rows.Ln, p.QkvW + (l * 3L * c * c), p.QkvB + (l * 3 * c), rows, c, 3 * c);   // (n,3C)
            for (int i = 0; i < sequences; i++)
            {
                var s = _slots[prefill ? _groupSlots[i] : _batchSlots[i]];
                long row = prefill ? _groupOffsets[i] : i;
                _k.CachedAttentionForward(_rows.Atty + (row * c), _rows.Qkv + (row * 3 * c), s.Keys + (l * tc), s.Values + (l * tc), _rows.Scores,
                    prefill ? 0 : _batchPositions[i], prefill ? _groupLengths[i] : 1, c, _nh, _maxT);
            }

            _k.MatmulForward(_rows.Proj, _rows.Atty, p.AttProjW + ((long)l * c * c), p.AttProjB + (l * c), rows, c, c);
            _k.ResidualForward(_rows.X2, _rows.X, _rows.Proj, nc);
            _k.LayerNormForward(_rows.Ln, _rows.Mean, _rows.Rstd, _rows.X2, p.Ln2W + (l * c), p.Ln2B + (l * c), rows, c);
            _k.MatmulForward(_rows.Fch, _rows.Ln, p.FcW + (l * 4L * c * c), p.FcB + (l * 4 * c), rows, c, 4 * c);       // (n,4C)
            _k.GeluForward(_rows.FchGelu, _rows.Fch, nc * 4);
            _k.MatmulForward(_rows.Proj, _rows.FchGelu, p.FcProjW + (l * 4L * c * c), p.FcProjB + (l * c), rows, 4 * c, c);
            _k.ResidualForward(_rows.X, _rows.X2, _rows.Proj, nc);
        }
    }

    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot.Dispose();
        }

        _rows.Dispose();
        _tokenBuffer.Dispose();
    }

    /// <summary>A sequence's place: its tokens on the host and its caches on the device, allocated at first use.</summary>
    private sealed class Slot(int maxT) : IDisposable
    {
        private DeviceBuffer? _keys, _values;

        public int[] Tokens { get; } = new int[maxT];

        public int Length { get; set; }

        public int Slides { get; set; }

        public float* Keys => _keys!.Pointer;

        public float* Values => _values!.Pointer;

        public void EnsureCache(IGptKernels kernels, long floats)
        {
            _keys ??= kernels.Allocate(floats);
            _values ??= kernels.Allocate(floats);
        }

        public void Dispose()
        {
            _keys?.Dispose();
            _values?.Dispose();
        }
    }
}
