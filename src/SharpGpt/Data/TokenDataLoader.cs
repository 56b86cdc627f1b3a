namespace SharpGpt.Data;

/// <summary>Streams the shards of one split in order, llm.c style. A step takes W·B·T tokens of the current shard
/// (W = world size); rank r reads the B·T + 1 tokens at position + r·B·T, so the ranks of one step read adjacent
/// slices, and rank 0..W-1 together read exactly what one rank with batch W·B would. When the next step no longer
/// fits (position + W·B·T + 1 &gt; shard length) the loader moves to the next shard, after the last one back to the
/// first. Tokens at the tail of a shard that do not fill a step are skipped, like llm.c.
/// <para>With a window seed, each row instead reads a window at a random offset of the current shard, as
/// nanoGPT samples batches; the offset is a hash of (seed, shard, step, global row), so the state is still
/// (shard, step), resumable, and the ranks together still read what one rank with batch W·B would.</para>
/// <para>Fine-tuning data (shards with loss masks) is read in rows instead (<see cref="PackedRows"/>): whole examples
/// packed into rows of T + 1 tokens, a target of -1 wherever the mask says the token is not trained on. A step takes
/// W·B rows of the current shard, rank r the B at row position + r·B, and the state is (shard, row). The last step
/// of a shard is filled up with empty rows (no targets), so that every example is read once a pass and a split
/// smaller than one step still gives one.</para></summary>
internal sealed class TokenDataLoader
{
    private readonly TokenShards _shards;
    private readonly int[] _shardTokenCounts;
    private ushort[] _shard = [];
    private int _loadedShard = -1;
    private int _shardIndex;
    private long _position;
    private readonly ulong? _windowSeed;
    private readonly int[]? _shardRowCounts;
    private byte[] _mask = [];
    private PackedRows? _rows;

    public TokenDataLoader(IReadOnlyList<string> shardPaths, int batchSize, int seqLen, int rank = 0, int worldSize = 1, ulong? randomWindowSeed = null)
        : this(Files(shardPaths), batchSize, seqLen, rank, worldSize, randomWindowSeed)
    {
    }

    public TokenDataLoader(TokenShards shards, int batchSize, int seqLen, int rank = 0, int worldSize = 1, ulong? randomWindowSeed = null)
    {
        _windowSeed = randomWindowSeed;
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        if (rank < 0 || rank >= worldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} is outside 0..{worldSize - 1}.");
        }

        BatchSize = batchSize;
        SeqLen = seqLen;
        Rank = rank;
        WorldSize = worldSize;
        _shards = shards;
        _shardTokenCounts = new int[shards.Count];
        if (shards.HasMasks)
        {
            if (randomWindowSeed is not null)
            {
                throw new SharpGptException("BatchOrder", "random windows would cut fine-tuning examples apart", "read them in packed rows, in order (BatchOrder Sequential).");
            }

            _shardRowCounts = new int[shards.Count];
        }

        for (var i = 0; i < shards.Count; i++)
        {
            var count = shards.TokenCount(i);
            if (_shardRowCounts is not null)
            {
                _shardTokenCounts[i] = count;
                var rows = LayOut(i);
                Examples += rows.Examples;
                TruncatedExamples += rows.Truncated;
                _shardRowCounts[i] = rows.Count;
                StepsPerEpoch += (rows.Count + (WorldSize * BatchSize) - 1) / (WorldSize * BatchSize);
                continue;
            }

            if (count < StepTokens + 1)
            {
                throw new SharpGptException(shards.Name(i), $"holds {count} tokens, fewer than one step needs ({WorldSize} rank(s) × B {BatchSize} × T {SeqLen} + 1 = {StepTokens + 1}); use a smaller batch or sequence length.");
            }

            _shardTokenCounts[i] = count;
            StepsPerEpoch += (count - 1) / StepTokens;
        }

        Inputs = new int[batchSize * seqLen];
        Targets = new int[batchSize * seqLen];
    }

    /// <summary>The loader of split "train" or "val" of a prepared directory: its {split}_*.bin in name order.</summary>
    public static TokenDataLoader ForSplit(string dataDir, string split, int batchSize, int seqLen, int rank = 0, int worldSize = 1, ulong? randomWindowSeed = null) =>
        new(TokenShards.InFolder(dataDir, split), batchSize, seqLen, rank, worldSize, randomWindowSeed);

    private static TokenShards Files(IReadOnlyList<string> shardPaths) => shardPaths.Count > 0
        ? TokenShards.Files(shardPaths)
        : throw new ArgumentException("A data loader needs at least one shard.", nameof(shardPaths));

    /// <summary>Whether a prepared folder has shards of <paramref name="split"/>.</summary>
    public static bool HasShards(string dataDir, string split) => Directory.Exists(dataDir) && Directory.GetFiles(dataDir, $"{split}_*.bin").Length > 0;

    /// <summary>The shards of a split in name order; throws naming the directory when there are none.</summary>
    public static string[] FindShards(string dataDir, string split)
    {
        if (!Directory.Exists(dataDir))
        {
            throw new SharpGptException(dataDir, "data directory not found; run 'sharpgpt prepare' first.");
        }

        var shards = Directory.GetFiles(dataDir, $"{split}_*.bin");
        if (shards.Length == 0)
        {
            throw new SharpGptException(dataDir, $"no {split}_*.bin shards; run 'sharpgpt prepare' first.");
        }

        Array.Sort(shards, StringComparer.Ordinal);
        return shards;
    }

    public int BatchSize { get; }

    public int SeqLen { get; }

    public int Rank { get; }

    public int WorldSize { get; }

    /// <summary>Where each shard is: its path, or its name in memory.</summary>
    public IReadOnlyList<string> ShardPaths => [.. Enumerable.Range(0, _shards.Count).Select(_shards.Name)];

    /// <summary>Tokens all ranks consume together in one step.</summary>
    public long StepTokens => (long)WorldSize * BatchSize * SeqLen;

    /// <summary>Steps in one pass over all shards; an evaluation over the whole split runs this many.</summary>
    public long StepsPerEpoch { get; }

    /// <summary>Whether the split is fine-tuning data read in packed rows, with masked targets.</summary>
    public bool Packed => _shardRowCounts is not null;

    /// <summary>Examples in the split (packed rows only; 0 for plain text).</summary>
    public long Examples { get; }

    /// <summary>Examples longer than T + 1 tokens, cut to the row they fill (packed rows only).</summary>
    public long TruncatedExamples { get; }

    /// <summary>Rows of T + 1 tokens the split's examples fill (packed rows only).</summary>
    public long Rows => _shardRowCounts?.Sum(c => (long)c) ?? 0;

    /// <summary>Total tokens in the split's shards.</summary>
    public long TotalTokens => _shardTokenCounts.Sum(c => (long)c);

    /// <summary>Inputs of the current batch, row-major [B, T]; the array is reused by every <see cref="NextBatch"/>.</summary>
    public int[] Inputs { get; }

    /// <summary>Targets of the current batch: the inputs shifted by one token, [B, T]; reused like <see cref="Inputs"/>.</summary>
    public int[] Targets { get; }

    /// <summary>Where the next batch starts.</summary>
    public LoaderState State => new(_shardIndex, _position);

    /// <summary>Fills <see cref="Inputs"/> and <see cref="Targets"/> with the next batch and advances.</summary>
    public void NextBatch()
    {
        if (_windowSeed is ulong seed)
        {
            NextRandomWindows(seed);
            return;
        }

        if (_shardRowCounts is not null)
        {
            NextPackedRows();
            return;
        }

        var tokens = CurrentShard();
        var start = checked((int)(_position + (long)Rank * BatchSize * SeqLen));
        var window = tokens.AsSpan(start, Inputs.Length + 1);
        for (var i = 0; i < Inputs.Length; i++)
        {
            Inputs[i] = window[i];
            Targets[i] = window[i + 1];
        }

        _position += StepTokens;
        MoveToNextShardIfStepDoesNotFit();
    }

    /// <summary>Back to the first step of the first shard.</summary>
    public void Reset() => Restore(new LoaderState(0, 0));

    /// <summary>Continues exactly where <paramref name="state"/> was taken (with the same B, T and world size).</summary>
    public void Restore(LoaderState state)
    {
        if (state.ShardIndex < 0 || state.ShardIndex >= _shards.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(state), $"shard index {state.ShardIndex} is outside 0..{_shards.Count - 1}.");
        }

        if (_shardRowCounts is not null && (state.Position < 0 || state.Position >= _shardRowCounts[state.ShardIndex]))
        {
            throw new ArgumentOutOfRangeException(nameof(state), $"row {state.Position} is outside shard {_shards.Name(state.ShardIndex)} ({_shardRowCounts[state.ShardIndex]} rows).");
        }

        if (state.Position < 0 || state.Position >= _shardTokenCounts[state.ShardIndex])
        {
            throw new ArgumentOutOfRangeException(nameof(state), $"position {state.Position} is outside shard {_shards.Name(state.ShardIndex)} ({_shardTokenCounts[state.ShardIndex]} tokens).");
        }

        _shardIndex = state.ShardIndex;
        _position = state.Position;
        MoveToNextShardIfStepDoesNotFit();
    }

    /// <summary>Checks every token of every shard against the model's vocabulary; throws naming the shard, the
    /// position and the token of the first one that is out of range.</summary>
    public void ValidateTokens(int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        if (vocabSize > ushort.MaxValue)
        {
            return; // every uint16 token fits
        }

        for (var s = 0; s < _shards.Count; s++)
        {
            LoadShard(s);
            var tokens = _shard.AsSpan(0, _shardTokenCounts[s]);
            var bad = tokens.IndexOfAnyInRange((ushort)vocabSize, ushort.MaxValue);
            if (bad >= 0)
            {
                throw new SharpGptException(_shards.Name(s), $"token {tokens[bad]} at position {bad} is outside the model's vocabulary of {vocabSize}; was the data prepared with another tokenizer?");
            }
        }
    }

    private ushort[] CurrentShard()
    {
        LoadShard(_shardIndex);
        return _shard;
    }

    // Only touches the disk when the shard changes: a single-shard split is read once and kept.
    private void LoadShard(int index)
    {
        if (_loadedShard == index)
        {
            return;
        }

        _loadedShard = -1;
        var count = _shards.Read(index, ref _shard);
        if (count != _shardTokenCounts[index])
        {
            throw new SharpGptException(_shards.Name(index), $"holds {count} tokens now but {_shardTokenCounts[index]} when the loader opened it; was it rewritten during training?");
        }

        if (_shardRowCounts is not null)
        {
            _rows = LayOut(index);
        }

        _loadedShard = index;
    }

    // Reads shard index's mask into _mask and lays out its rows.
    private PackedRows LayOut(int index)
    {
        _shards.ReadMask(index, ref _mask);
        return new PackedRows(_mask.AsSpan(0, _shardTokenCounts[index]), SeqLen + 1);
    }

    // Packed rows: Position is the row the step starts at.
    private void NextPackedRows()
    {
        var tokens = CurrentShard();
        var mask = _mask.AsSpan(0, _shardTokenCounts[_shardIndex]);
        var first = checked((int)(_position + ((long)Rank * BatchSize)));
        for (var row = 0; row < BatchSize; row++)
        {
            _rows!.Fill(first + row, tokens, mask, Inputs.AsSpan(row * SeqLen, SeqLen), Targets.AsSpan(row * SeqLen, SeqLen));
        }

        _position += (long)WorldSize * BatchSize;
        MoveToNextShardIfStepDoesNotFit();
    }

    // Random windows: Position counts the steps taken in the current shard.
    private void NextRandomWindows(ulong seed)
    {
        var tokens = CurrentShard();
        long span = _shardTokenCounts[_shardIndex] - SeqLen;
        for (var row = 0; row < BatchSize; row++)
        {
            long globalRow = ((long)Rank * BatchSize) + row;
            ulong h = Mix(seed ^ Mix(((ulong)_shardIndex << 40) ^ ((ulong)_position << 20) ^ (ulong)globalRow));
            var window = tokens.AsSpan((int)(h % (ulong)span), SeqLen + 1);
            for (var i = 0; i < SeqLen; i++)
            {
                Inputs[(row * SeqLen) + i] = window[i];
                Targets[(row * SeqLen) + i] = window[i + 1];
            }
        }

        _position++;
        MoveToNextShardIfStepDoesNotFit();
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private void MoveToNextShardIfStepDoesNotFit()
    {
        if (_windowSeed is not null)
        {
            // As many steps per shard as the sequential order takes.
            if (_position >= (_shardTokenCounts[_shardIndex] - 1) / StepTokens)
            {
                _shardIndex = (_shardIndex + 1) % _shards.Count;
                _position = 0;
            }

            return;
        }

        if (_shardRowCounts is not null)
        {
            if (_position >= _shardRowCounts[_shardIndex])
            {
                _shardIndex = (_shardIndex + 1) % _shards.Count;
                _position = 0;
            }

            return;
        }

        if (_position + StepTokens + 1 > _shardTokenCounts[_shardIndex])
        {
            _shardIndex = (_shardIndex + 1) % _shards.Count;
            _position = 0;
        }
    }
}
