using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class TokenDataLoaderTests
{
    // Each shard holds consecutive values start, start+1, …, so a token tells where it was read from.
    private static string WriteShard(TempDirectory temp, string name, int start, int count)
    {
        var path = temp.File(name);
        TokenShardWriter.Write(path, Enumerable.Range(start, count).ToArray());
        return path;
    }

    [Fact]
    public void Targets_are_the_inputs_shifted_by_one()
    {
        using var temp = new TempDirectory();
        var loader = new TokenDataLoader([WriteShard(temp, "train_000000.bin", 100, 200)], batchSize: 3, seqLen: 5);

        loader.NextBatch();

        Assert.Equal(Enumerable.Range(100, 15), loader.Inputs);
        Assert.Equal(Enumerable.Range(101, 15), loader.Targets);
        loader.NextBatch();
        Assert.Equal(Enumerable.Range(115, 15), loader.Inputs);
        Assert.Equal(Enumerable.Range(116, 15), loader.Targets);
    }

    [Fact]
    public void Wraps_around_after_the_last_step_that_fits()
    {
        using var temp = new TempDirectory();
        const int B = 2, T = 4;
        // Three whole steps plus the one extra target token plus a tail of 5 that no step can use.
        var loader = new TokenDataLoader([WriteShard(temp, "train_000000.bin", 0, 3 * B * T + 1 + 5)], B, T);
        Assert.Equal(3, loader.StepsPerEpoch);

        var firsts = new List<int>();
        for (var step = 0; step < 7; step++)
        {
            loader.NextBatch();
            firsts.Add(loader.Inputs[0]);
            Assert.Equal(loader.Inputs[^1] + 1, loader.Targets[^1]);
        }

        Assert.Equal([0, 8, 16, 0, 8, 16, 0], firsts);
    }

    [Fact]
    public void Reads_shards_in_order_and_wraps_to_the_first()
    {
        using var temp = new TempDirectory();
        var a = WriteShard(temp, "train_000000.bin", 0, 17);
        var b = WriteShard(temp, "train_000001.bin", 1000, 9);
        var loader = new TokenDataLoader([a, b], batchSize: 1, seqLen: 8);

        var firsts = new List<int>();
        for (var step = 0; step < 4; step++)
        {
            loader.NextBatch();
            firsts.Add(loader.Inputs[0]);
        }

        Assert.Equal([0, 8, 1000, 0], firsts);
        Assert.Equal(3, loader.StepsPerEpoch);
    }

    [Fact]
    public void Ranks_together_read_what_one_rank_with_their_combined_batch_reads()
    {
        using var temp = new TempDirectory();
        string[] shards =
        [
            WriteShard(temp, "train_000000.bin", 0, 50),
            WriteShard(temp, "train_000001.bin", 10_000, 37),
            WriteShard(temp, "train_000002.bin", 20_000, 64),
        ];
        const int B = 2, T = 4;
        var rank0 = new TokenDataLoader(shards, B, T, rank: 0, worldSize: 2);
        var rank1 = new TokenDataLoader(shards, B, T, rank: 1, worldSize: 2);
        var single = new TokenDataLoader(shards, 2 * B, T);

        for (var step = 0; step < 20; step++)
        {
            rank0.NextBatch();
            rank1.NextBatch();
            single.NextBatch();

            Assert.Empty(rank0.Inputs.Intersect(rank1.Inputs));
            Assert.Equal(single.Inputs, rank0.Inputs.Concat(rank1.Inputs));
            Assert.Equal(single.Targets, rank0.Targets.Concat(rank1.Targets));
            Assert.Equal(rank0.State, rank1.State);
        }
    }

    [Fact]
    public void Restoring_a_state_resumes_exactly()
    {
        using var temp = new TempDirectory();
        string[] shards = [WriteShard(temp, "train_000000.bin", 0, 45), WriteShard(temp, "train_000001.bin", 5000, 31)];
        var loader = new TokenDataLoader(shards, batchSize: 2, seqLen: 3);
        for (var step = 0; step < 5; step++)
        {
            loader.NextBatch();
        }

        var state = loader.State;
        var expected = NextBatches(loader, 9);

        var resumed = new TokenDataLoader(shards, batchSize: 2, seqLen: 3);
        resumed.Restore(state);

        Assert.Equal(state, resumed.State);
        Assert.Equal(expected, NextBatches(resumed, 9));
    }

    [Fact]
    public void Reset_starts_over()
    {
        using var temp = new TempDirectory();
        string[] shards = [WriteShard(temp, "val_000000.bin", 0, 40), WriteShard(temp, "val_000001.bin", 900, 40)];
        var loader = new TokenDataLoader(shards, batchSize: 2, seqLen: 4, rank: 1, worldSize: 2);
        var first = NextBatches(loader, 4);

        loader.Reset();

        Assert.Equal(new LoaderState(0, 0), loader.State);
        Assert.Equal(first, NextBatches(loader, 4));
    }

    [Fact]
    public void Restore_rejects_a_state_outside_the_shards()
    {
        using var temp = new TempDirectory();
        var loader = new TokenDataLoader([WriteShard(temp, "train_000000.bin", 0, 40)], batchSize: 2, seqLen: 4);

        Assert.Throws<ArgumentOutOfRangeException>(() => loader.Restore(new LoaderState(1, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.Restore(new LoaderState(0, 40)));
    }

    [Fact]
    public void Batches_reuse_the_same_arrays_without_allocating()
    {
        using var temp = new TempDirectory();
        var loader = new TokenDataLoader([WriteShard(temp, "train_000000.bin", 0, 1000)], batchSize: 4, seqLen: 8);
        var inputs = loader.Inputs;
        var targets = loader.Targets;
        loader.NextBatch(); // loads the shard once

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var step = 0; step < 200; step++)
        {
            loader.NextBatch();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Same(inputs, loader.Inputs);
        Assert.Same(targets, loader.Targets);
    }

    [Fact]
    public void ValidateTokens_names_the_shard_and_the_token()
    {
        using var temp = new TempDirectory();
        var good = WriteShard(temp, "train_000000.bin", 0, 60);
        var bad = temp.File("train_000001.bin");
        var tokens = Enumerable.Range(0, 60).Select(i => i % 65).ToArray();
        tokens[42] = 70;
        TokenShardWriter.Write(bad, tokens);
        var loader = new TokenDataLoader([good, bad], batchSize: 2, seqLen: 4);

        loader.ValidateTokens(100);
        var error = Assert.Throws<SharpGptException>(() => loader.ValidateTokens(65));

        Assert.Contains(bad, error.Message);
        Assert.Contains("token 70 at position 42", error.Message);
    }

    [Fact]
    public void A_shard_too_small_for_one_step_is_named()
    {
        using var temp = new TempDirectory();
        var small = WriteShard(temp, "val_000000.bin", 0, 16);

        var error = Assert.Throws<SharpGptException>(() => new TokenDataLoader([small], batchSize: 2, seqLen: 8));
        Assert.Contains(small, error.Message);
        Assert.Contains("17", error.Message);
    }

    [Fact]
    public void ForSplit_finds_the_shards_of_a_split_in_name_order()
    {
        using var temp = new TempDirectory();
        WriteShard(temp, "train_000001.bin", 1000, 20);
        WriteShard(temp, "train_000000.bin", 0, 20);
        WriteShard(temp, "val_000000.bin", 500, 20);

        var train = TokenDataLoader.ForSplit(temp.Path, "train", batchSize: 1, seqLen: 4);
        var val = TokenDataLoader.ForSplit(temp.Path, "val", batchSize: 1, seqLen: 4);

        Assert.Equal([temp.File("train_000000.bin"), temp.File("train_000001.bin")], train.ShardPaths);
        Assert.Equal([temp.File("val_000000.bin")], val.ShardPaths);
        var error = Assert.Throws<SharpGptException>(() => TokenDataLoader.ForSplit(temp.Path, "test", 1, 4));
        Assert.Contains(temp.Path, error.Message);
    }

    // Each batch as its inputs followed by its targets, copied out of the reused arrays.
    private static List<int[]> NextBatches(TokenDataLoader loader, int count)
    {
        var batches = new List<int[]>();
        for (var i = 0; i < count; i++)
        {
            loader.NextBatch();
            batches.Add([.. loader.Inputs, .. loader.Targets]);
        }

        return batches;
    }
}
