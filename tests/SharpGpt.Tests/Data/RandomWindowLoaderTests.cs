using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class RandomWindowLoaderTests
{
    // Consecutive values, so a window's first token tells where it was read from.
    private static string WriteShard(TempDirectory temp, string name, int start, int count)
    {
        var path = temp.File(name);
        TokenShardWriter.Write(path, Enumerable.Range(start, count).ToArray());
        return path;
    }

    [Fact]
    public void Rows_are_contiguous_windows_at_varied_offsets_with_shifted_targets()
    {
        using var temp = new TempDirectory();
        var loader = new TokenDataLoader([WriteShard(temp, "train_000000.bin", 0, 5000)], batchSize: 8, seqLen: 16, randomWindowSeed: 1);
        var starts = new HashSet<int>();
        for (var step = 0; step < 10; step++)
        {
            loader.NextBatch();
            for (var row = 0; row < 8; row++)
            {
                var inputs = loader.Inputs.AsSpan(row * 16, 16);
                var targets = loader.Targets.AsSpan(row * 16, 16);
                Assert.Equal(Enumerable.Range(inputs[0], 16), inputs.ToArray());
                Assert.Equal(Enumerable.Range(inputs[0] + 1, 16), targets.ToArray());
                Assert.InRange(inputs[0], 0, 5000 - 17);
                starts.Add(inputs[0]);
            }
        }

        Assert.True(starts.Count > 70, $"only {starts.Count} distinct offsets in 80 rows");
    }

    [Fact]
    public void The_same_seed_gives_the_same_batches_and_another_seed_others()
    {
        using var temp = new TempDirectory();
        string[] shards = [WriteShard(temp, "train_000000.bin", 0, 3000)];
        int[] Take(ulong seed)
        {
            var loader = new TokenDataLoader(shards, 4, 8, randomWindowSeed: seed);
            loader.NextBatch();
            loader.NextBatch();
            return [.. loader.Inputs];
        }

        Assert.Equal(Take(7), Take(7));
        Assert.NotEqual(Take(7), Take(8));
    }

    [Fact]
    public void Ranks_together_read_what_one_rank_with_their_combined_batch_reads()
    {
        using var temp = new TempDirectory();
        string[] shards = [WriteShard(temp, "train_000000.bin", 0, 400), WriteShard(temp, "train_000001.bin", 10_000, 300)];
        var rank0 = new TokenDataLoader(shards, 2, 4, rank: 0, worldSize: 2, randomWindowSeed: 3);
        var rank1 = new TokenDataLoader(shards, 2, 4, rank: 1, worldSize: 2, randomWindowSeed: 3);
        var single = new TokenDataLoader(shards, 4, 4, randomWindowSeed: 3);
        bool sawSecondShard = false;
        for (var step = 0; step < 60; step++)
        {
            rank0.NextBatch();
            rank1.NextBatch();
            single.NextBatch();
            Assert.Equal(single.Inputs, rank0.Inputs.Concat(rank1.Inputs));
            Assert.Equal(rank0.State, rank1.State);
            sawSecondShard |= single.Inputs[0] >= 10_000;
        }

        Assert.True(sawSecondShard, "the loader never moved on to the second shard");
    }

    [Fact]
    public void Restoring_a_state_resumes_exactly()
    {
        using var temp = new TempDirectory();
        string[] shards = [WriteShard(temp, "train_000000.bin", 0, 450), WriteShard(temp, "train_000001.bin", 5000, 310)];
        var loader = new TokenDataLoader(shards, 2, 3, randomWindowSeed: 11);
        for (var step = 0; step < 70; step++)
        {
            loader.NextBatch();
        }

        var state = loader.State;
        var resumed = new TokenDataLoader(shards, 2, 3, randomWindowSeed: 11);
        resumed.Restore(state);
        for (var step = 0; step < 30; step++)
        {
            loader.NextBatch();
            resumed.NextBatch();
            Assert.Equal(loader.Inputs, resumed.Inputs);
        }
    }
}
