using SharpGpt.Distributed;

namespace SharpGpt.Tests.Distributed;

public sealed class ZeroPartitionTests
{
    [Theory]
    [InlineData(124_475_904L, 2, 4L << 20)]
    [InlineData(30_000L, 2, 1000L)]
    [InlineData(30_001L, 3, 1000L)]
    [InlineData(37L, 4, 1000L)]
    [InlineData(1000L, 1, 64L)]
    [InlineData(5L, 8, 64L)]
    public void EveryFloatHasExactlyOneOwner(long total, int ranks, long chunk)
    {
        var partitions = Enumerable.Range(0, ranks).Select(r => new ZeroPartition(total, ranks, r, chunk)).ToList();
        var owner = new int[Math.Min(total, 1_000_000)];
        long covered = 0;
        foreach (var p in partitions)
        {
            Assert.Equal(partitions[0].Rounds.Select(r => (r.Start, r.Length)), p.Rounds.Select(r => (r.Start, r.Length)));
            long local = 0;
            foreach (var round in p.Rounds)
            {
                Assert.Equal(round.Counts.Take(p.Rank).Sum(c => (long)c), round.Offset);
                Assert.Equal(local, round.LocalStart);
                Assert.True(round.Length <= Math.Max(16L * ranks, chunk), "a round is at most one chunk (a block is at least 16 floats)");
                local += round.Counts[p.Rank];
                for (long i = round.Start + round.Offset; i < round.Start + round.Offset + round.Counts[p.Rank] && i < owner.Length; i++)
                {
                    owner[i]++;
                }
            }

            Assert.Equal(local, p.LocalCount);
            covered += p.LocalCount;
        }

        Assert.Equal(total, covered);
        Assert.All(owner, n => Assert.Equal(1, n));
        var rounds = partitions[0].Rounds;
        Assert.Equal(0, rounds.Count == 0 ? 0 : rounds[0].Start);
        for (int i = 1; i < rounds.Count; i++)
        {
            Assert.Equal(rounds[i - 1].Start + rounds[i - 1].Length, rounds[i].Start);
        }

        // Blocks start on 16-float boundaries, so the vectorised AdamW runs on aligned memory.
        Assert.All(rounds, r => Assert.All(Enumerable.Range(0, ranks).Where(k => r.Counts[k] > 0), k => Assert.Equal(0, (r.Start + r.Counts.Take(k).Sum()) % 16)));
    }

    [Fact]
    public void ShardsAreEqualToWithinARoundSoTheMomentsShrinkByTheRankCount()
    {
        const long total = 124_475_904;
        var shards = Enumerable.Range(0, 4).Select(r => new ZeroPartition(total, 4, r, 4L << 20).LocalCount).ToList();
        Assert.All(shards, n => Assert.InRange(n, (total / 4) - (4L << 20), (total / 4) + (4L << 20)));
    }
}
