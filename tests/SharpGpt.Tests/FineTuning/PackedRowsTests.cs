using SharpGpt.Data;
using SharpGpt.Tests.Data;
using static SharpGpt.Tests.FineTuning.FineTuningExamples;

namespace SharpGpt.Tests.FineTuning;

/// <summary>The loader on fine-tuning data: whole examples packed into rows of T + 1 tokens, targets only where the
/// mask says trained on, the long example cut and counted.</summary>
public sealed class PackedRowsTests
{
    private const int T = 5; // rows of 6 tokens

    // e0 (2) and e1 (3) share row 0; e2 (6) fills row 1 exactly; e3 (9) is cut to row 2; e4 (2) and e5 (4) fill row 3.
    private static readonly (int[] Tokens, bool[] Trained)[] Examples =
        [Example(1, 2, 1), Example(2, 3, 1), Example(3, 6, 3), Example(4, 9, 7), Example(5, 2, 1), Example(6, 4, 2)];

    private static readonly int[][] RowInputs =
    [
        [100, 101, 200, 201, 202],
        [300, 301, 302, 303, 304],
        [400, 401, 402, 403, 404],
        [500, 501, 600, 601, 602],
    ];

    // The next token where it is trained on, else -1: never an example's first token, never padding.
    private static readonly int[][] RowTargets =
    [
        [101, -1, -1, 202, -1],
        [-1, -1, 303, 304, 305],
        [-1, 402, 403, 404, 405],
        [501, -1, -1, 602, 603],
    ];

    [Fact]
    public void Whole_examples_are_packed_greedily_and_only_trained_tokens_are_targets()
    {
        var loader = new TokenDataLoader(Shards(Examples), batchSize: 2, seqLen: T);

        Assert.True(loader.Packed);
        Assert.Equal(6, loader.Examples);
        Assert.Equal(4, loader.Rows);
        Assert.Equal(1, loader.TruncatedExamples);
        Assert.Equal(2, loader.StepsPerEpoch);
        for (int step = 0; step < 5; step++)
        {
            loader.NextBatch();
            int first = step % 2 * 2; // two steps a pass, then the rows again
            Assert.Equal(RowInputs[first].Concat(RowInputs[first + 1]), loader.Inputs);
            Assert.Equal(RowTargets[first].Concat(RowTargets[first + 1]), loader.Targets);
        }
    }

    [Fact]
    public void A_short_row_is_padded_with_token_0_and_no_targets()
    {
        var loader = new TokenDataLoader(Shards(Example(1, 2, 1), Example(2, 6, 2)), batchSize: 1, seqLen: T);

        loader.NextBatch();

        Assert.Equal([100, 101, 0, 0, 0], loader.Inputs);
        Assert.Equal([101, -1, -1, -1, -1], loader.Targets);
    }

    [Fact]
    public void Ranks_together_read_what_one_rank_with_their_combined_batch_reads()
    {
        var whole = new TokenDataLoader(Shards(Examples), batchSize: 4, seqLen: T);
        var ranks = Enumerable.Range(0, 2).Select(r => new TokenDataLoader(Shards(Examples), batchSize: 2, seqLen: T, rank: r, worldSize: 2)).ToList();

        for (int step = 0; step < 3; step++)
        {
            whole.NextBatch();
            ranks.ForEach(r => r.NextBatch());
            Assert.Equal(whole.Inputs, ranks.SelectMany(r => r.Inputs));
            Assert.Equal(whole.Targets, ranks.SelectMany(r => r.Targets));
            Assert.Equal(whole.State, ranks[1].State);
        }
    }

    [Fact]
    public void Restoring_a_state_continues_at_the_same_row()
    {
        var first = new TokenDataLoader(Shards(Examples), batchSize: 1, seqLen: T);
        first.NextBatch();
        first.NextBatch();
        first.NextBatch();
        var resumed = new TokenDataLoader(Shards(Examples), batchSize: 1, seqLen: T);
        resumed.Restore(first.State);

        Assert.Equal(new LoaderState(0, 3), first.State);
        for (int step = 0; step < 3; step++)
        {
            first.NextBatch();
            resumed.NextBatch();
            Assert.Equal(first.Inputs, resumed.Inputs);
            Assert.Equal(first.Targets, resumed.Targets);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => resumed.Restore(new LoaderState(0, 4)));
    }

    [Fact]
    public void Shard_files_with_masks_are_read_in_order_and_a_shards_last_step_is_filled_up_with_empty_rows()
    {
        using var temp = new TempDirectory();
        string a = Write(temp, "train_000000.bin", Examples);                                               // 4 rows: 2 steps of 2
        string b = Write(temp, "train_000001.bin", [Example(7, 6, 1), Example(8, 6, 1), Example(9, 6, 1)]); // 3 rows: 2 steps, the last half empty

        var loader = new TokenDataLoader(TokenShards.Files([a, b]), batchSize: 2, seqLen: T);

        Assert.Equal(4, loader.StepsPerEpoch);
        var firsts = new List<int>();
        for (int step = 0; step < 5; step++)
        {
            loader.NextBatch();
            firsts.Add(loader.Inputs[0]);
            if (step == 3)
            {
                Assert.Equal([900, 901, 902, 903, 904, 0, 0, 0, 0, 0], loader.Inputs);
                Assert.Equal([-1, -1, -1, -1, 905, -1, -1, -1, -1, -1], loader.Targets);
            }
        }

        Assert.Equal([100, 400, 700, 900, 100], firsts);
    }

    [Fact]
    public void A_mask_that_does_not_match_its_shard_or_a_missing_one_is_named()
    {
        using var temp = new TempDirectory();
        string a = Write(temp, "train_000000.bin", Examples);
        string b = Write(temp, "train_000001.bin", Examples);
        TokenMaskFile.Write(TokenMaskFormat.PathFor(b), new byte[5]);

        var e = Assert.Throws<SharpGptException>(() => new TokenDataLoader(TokenShards.Files([a, b]), batchSize: 1, seqLen: T));
        Assert.Contains(TokenMaskFormat.PathFor(b), e.Message);
        Assert.Contains("the mask says 5 tokens", e.Message);

        File.Delete(TokenMaskFormat.PathFor(b));
        e = Assert.Throws<SharpGptException>(() => TokenShards.Files([a, b]));
        Assert.Contains($"{TokenMaskFormat.PathFor(b)}: loss mask not found", e.Message);
    }

    [Fact]
    public void A_split_smaller_than_a_step_gives_one_step_whose_other_rows_are_empty()
    {
        var ranks = Enumerable.Range(0, 2).Select(r => new TokenDataLoader(Shards(Examples), batchSize: 3, seqLen: T, rank: r, worldSize: 2)).ToList();

        Assert.All(ranks, r => Assert.Equal(1, r.StepsPerEpoch));
        ranks.ForEach(r => r.NextBatch());
        Assert.Equal(RowTargets.SelectMany(r => r).Concat(Enumerable.Repeat(-1, 2 * T)), ranks.SelectMany(r => r.Targets));
        Assert.Equal(new LoaderState(0, 0), ranks[0].State);
    }

    [Fact]
    public void Random_windows_would_cut_examples_and_are_refused()
    {
        var e = Assert.Throws<SharpGptException>(() => new TokenDataLoader(Shards(Examples), batchSize: 1, seqLen: T, randomWindowSeed: 1));
        Assert.StartsWith("BatchOrder: random windows would cut fine-tuning examples apart", e.Message);
    }

    private static string Write(TempDirectory temp, string name, (int[] Tokens, bool[] Trained)[] examples)
    {
        string path = temp.File(name);
        TokenShardWriter.Write(path, [.. examples.SelectMany(e => e.Tokens)]);
        TokenMaskFile.Write(TokenMaskFormat.PathFor(path), Mask(examples));
        return path;
    }
}
