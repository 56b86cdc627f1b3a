using SharpGpt.Distributed;

namespace SharpGpt.Tests.Distributed;

/// <summary>The collectives of ranks that are threads of one process, on three ranks and sizes with ragged tails.</summary>
public sealed unsafe class ThreadCollectivesTests
{
    private static float Value(int rank, int i) => (float)Math.Sin((rank * 1000) + i) * (rank + 1);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(3, 1031)]
    [InlineData(2, 4096)]
    public void AllReduceGivesEveryRankTheSumInRankOrder(int ranks, int count)
    {
        var results = ThreadRanks.Run(ranks, c =>
        {
            var data = Enumerable.Range(0, count).Select(i => Value(c.Rank, i)).ToArray();
            fixed (float* p = data)
            {
                c.AllReduceSum(p, count);
            }

            return data;
        });

        var expected = Enumerable.Range(0, count).Select(i =>
        {
            float s = Value(0, i);
            for (int r = 1; r < ranks; r++)
            {
                s += Value(r, i);
            }

            return s;
        }).ToArray();
        Assert.Equal(expected, results);
    }

    [Fact]
    public void EveryRankGetsTheSameResult()
    {
        var all = new float[3][];
        ThreadRanks.Run(3, c =>
        {
            var data = Enumerable.Range(0, 777).Select(i => Value(c.Rank, i)).ToArray();
            fixed (float* p = data)
            {
                c.AllReduceSum(p, data.Length);
            }

            all[c.Rank] = data;
            return 0;
        });

        Assert.Equal(all[0], all[1]);
        Assert.Equal(all[0], all[2]);
    }

    [Fact]
    public void ReduceScatterThenAllGatherIsAnAllReduce()
    {
        int[] counts = [5, 17, 3];
        int total = counts.Sum();
        var all = new float[3][];
        ThreadRanks.Run(3, c =>
        {
            var data = Enumerable.Range(0, total).Select(i => Value(c.Rank, i)).ToArray();
            int offset = counts.Take(c.Rank).Sum();
            fixed (float* p = data)
            {
                c.ReduceScatterSum(p, counts);

                // The sum of this rank's block is at the start; move it to the block's place and gather.
                var mine = new Span<float>(p, counts[c.Rank]).ToArray();
                mine.CopyTo(new Span<float>(p + offset, counts[c.Rank]));
                c.AllGather(p, counts);
            }

            all[c.Rank] = data;
            return 0;
        });

        var expected = Enumerable.Range(0, total).Select(i => Value(0, i) + Value(1, i) + Value(2, i)).ToArray();
        Assert.All(all, data => Assert.Equal(expected, data));
    }

    [Fact]
    public void BroadcastAndDoubleSums()
    {
        var results = new (long Broadcast, double Sum, double Count)[3];
        ThreadRanks.Run(3, c =>
        {
            long value = c.Rank == 1 ? 0x1234_5678_9abcL : -1;
            c.Broadcast(&value, sizeof(long), root: 1);
            Span<double> totals = [c.Rank + 0.5, 1];
            c.AllReduceSum(totals);
            c.Barrier();
            results[c.Rank] = (value, totals[0], totals[1]);
            return 0;
        });

        Assert.All(results, r => Assert.Equal((0x1234_5678_9abcL, 4.5, 3.0), r));
    }

    [Fact]
    public void AFailingRankReleasesTheOthersAndItsErrorReachesTheCaller()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ThreadRanks.Run(3, c =>
        {
            if (c.Rank == 2)
            {
                throw new InvalidOperationException("rank 2 broke");
            }

            // Ranks 0 and 1 would wait here forever for rank 2.
            var data = new float[8];
            fixed (float* p = data)
            {
                c.AllReduceSum(p, data.Length);
            }

            return 0;
        }));
        Assert.Equal("rank 2 broke", e.Message);
    }

    [Fact]
    public void RanksMustBeInRange()
    {
        var group = new ThreadGroup(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThreadCollectives(group, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThreadGroup(0));
    }
}
