using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class ParallelRunnerTests
{
    private struct Counts
    {
        public int* Hits;
        public int ThrowAt;
    }

    private static void CountPart(int part, void* p)
    {
        var c = (Counts*)p;
        if (part == c->ThrowAt)
        {
            throw new InvalidOperationException($"part {part} failed");
        }

        Interlocked.Increment(ref c->Hits[part]);
    }

    private static int[] RunFor(ParallelRunner runner, int parts, int throwAt = -1)
    {
        var hits = new int[Math.Max(parts, 1)];
        fixed (int* h = hits)
        {
            var args = new Counts { Hits = h, ThrowAt = throwAt };
            runner.For(parts, &CountPart, &args);
        }

        return hits;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void For_RunsEveryPartExactlyOnce(int threads)
    {
        using var runner = new ParallelRunner(threads);
        Assert.Equal(threads, runner.Threads);
        foreach (int parts in new[] { 0, 1, 2, 3, 7, 1000 })
        {
            // Loops back to back exercise the hand-over from one generation to the next. Fewer when
            // the threads outnumber the cores: each loop then costs the spinning workers a time slice.
            int repeats = threads <= Environment.ProcessorCount ? 10 : 2;
            for (int repeat = 0; repeat < repeats; repeat++)
            {
                var hits = RunFor(runner, parts);
                for (int i = 0; i < parts; i++)
                {
                    Assert.True(hits[i] == 1, $"{threads} threads, {parts} parts: part {i} ran {hits[i]} times");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void For_PropagatesAFailureAndStaysUsable(int threads)
    {
        using var runner = new ParallelRunner(threads);
        var e = Assert.ThrowsAny<Exception>(() => RunFor(runner, 100, throwAt: 42));
        Assert.Contains("part 42 failed", e is AggregateException a ? a.InnerException!.Message : e.Message);
        var hits = RunFor(runner, 100);
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void Constructor_RejectsFewerThanOneThread()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelRunner(0));

    [Fact]
    public void NativeBuffer_IsZeroedAndAligned()
    {
        using var b = new NativeBuffer(1001);
        Assert.Equal(0, (long)b.Pointer % 64);
        Assert.All(b.Span.ToArray(), x => Assert.Equal(0f, x));
        b.Span.Fill(3f);
        b.Clear();
        Assert.All(b.Span.ToArray(), x => Assert.Equal(0f, x));
        Assert.Equal(5, b.Slice(996, 5).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = b.Slice(997, 5).Length; });
    }
}
