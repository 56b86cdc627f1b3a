using System.Numerics;
using SharpGpt.Kernels;
using static SharpGpt.Tests.Kernels.AttentionTests;
using static SharpGpt.Tests.Kernels.KernelTestHelpers;

namespace SharpGpt.Tests.Kernels;

/// <summary>
/// Flash attention against the double-precision reference, finite differences and the plain
/// <see cref="Attention"/> it replaces, on sequence lengths that are not multiples of the tile (so the
/// last query and key tiles are partial), head sizes with and without a whole vector, several heads
/// and batches, small tiles (many tiles) and the default tile, and sequences longer than one forward key chunk (so the online softmax rescales).
/// </summary>
public sealed unsafe class FlashAttentionTests
{
    private static readonly int W = Vector<float>.Count;

    private sealed record FlashResult(float[] Out, float[] Lse, float[] DQkv);

    /// <summary>Forward then backward; out, lse, scratch and dqkv start as NaN so every element read is written first.</summary>
    private static FlashResult RunFlash(int threads, AttentionTests.Data d, int tile, bool viaCpuKernels = false)
    {
        int n = d.B * d.T;
        using var runner = new ParallelRunner(threads);
        using var qkv = GuardedBuffer.From("qkv", d.Qkv);
        using var dout = GuardedBuffer.From("dout", d.DOut);
        using var o = GuardedBuffer.Filled("out", n * d.C, float.NaN);
        using var lse = GuardedBuffer.Filled("lse", checked((int)FlashAttention.StateSize(d.B, d.T, d.NH)), float.NaN);
        using var scratch = GuardedBuffer.Filled("scratch", checked((int)FlashAttention.ScratchSize(d.B, d.T, d.C, d.NH, tile)), float.NaN);
        using var dqkv = GuardedBuffer.Filled("dqkv", n * 3 * d.C, float.NaN);
        Assert.Equal((long)d.B * d.NH * d.T, lse.Length);

        if (viaCpuKernels)
        {
            var k = new CpuKernels(runner);
            Assert.Equal(AttentionAlgorithm.Flash, k.Attention);
            Assert.Equal(lse.Length, k.AttentionStateSize(d.B, d.T, d.NH));
            Assert.Equal(scratch.Length, k.AttentionScratchSize(d.B, d.T, d.C, d.NH));
            k.AttentionForward(o.Pointer, lse.Pointer, qkv.Pointer, d.B, d.T, d.C, d.NH);
            k.AttentionBackward(dqkv.Pointer, scratch.Pointer, dout.Pointer, qkv.Pointer, o.Pointer, lse.Pointer, d.B, d.T, d.C, d.NH);
        }
        else
        {
            FlashAttention.Forward(runner, o.Pointer, lse.Pointer, qkv.Pointer, d.B, d.T, d.C, d.NH, tile);
            FlashAttention.Backward(runner, dqkv.Pointer, scratch.Pointer, dout.Pointer, qkv.Pointer, o.Pointer, lse.Pointer, d.B, d.T, d.C, d.NH, tile);
        }

        AssertGuardsIntact(qkv, dout, o, lse, scratch, dqkv);
        return new FlashResult(o.ToArray(), lse.ToArray(), dqkv.ToArray());
    }

    /// <summary>log sum_j&lt;=i exp(q_i·k_j / sqrt(hs)) in double, laid out (B, NH, T).</summary>
    private static double[] ReferenceLse(double[] qkv, int b, int t, int c, int nh)
    {
        int hs = c / nh, c3 = 3 * c;
        double scale = 1 / Math.Sqrt(hs);
        var lse = new double[b * nh * t];
        var s = new double[t];
        for (int bi = 0; bi < b; bi++)
        {
            for (int h = 0; h < nh; h++)
            {
                for (int i = 0; i < t; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j <= i; j++)
                    {
                        double dot = 0;
                        for (int d = 0; d < hs; d++)
                        {
                            dot += qkv[(((bi * t) + i) * c3) + (h * hs) + d] * qkv[(((bi * t) + j) * c3) + c + (h * hs) + d];
                        }

                        s[j] = dot * scale;
                        max = Math.Max(max, s[j]);
                    }

                    double sum = 0;
                    for (int j = 0; j <= i; j++)
                    {
                        sum += Math.Exp(s[j] - max);
                    }

                    lse[(((bi * nh) + h) * t) + i] = max + Math.Log(sum);
                }
            }
        }

        return lse;
    }

    /// <summary>Tiles given in vector widths, so that the cases mean the same on AVX2 (8) and AVX-512 (16) hardware.</summary>
    private static int Tile(int widths) => widths == 0 ? FlashAttention.DefaultTile : widths * W;

    [Theory]
    [InlineData(1, 1, 1, 20, 4, 0)]     // one position, hs 5
    [InlineData(2, 2, 7, 20, 2, 1)]     // hs 10: a vector and a tail
    [InlineData(1, 2, 33, 30, 3, 1)]    // hs 10, 5 tiles, the last one partial
    [InlineData(2, 1, 33, 20, 4, 0)]    // hs 5, default tile: one full tile and one row
    [InlineData(2, 1, 65, 64, 1, 0)]    // hs 64, three tiles, the last with one row
    [InlineData(1, 2, 100, 128, 2, 0)]  // two GPT-2 sized heads, T = 100
    [InlineData(2, 2, 100, 30, 5, 2)]   // hs 6, many tiles
    [InlineData(1, 1, 65, 24, 3, 1)]    // hs 8: exactly one vector
    [InlineData(1, 1, 300, 20, 2, 1)]   // hs 10, over 256 keys: two key chunks, the softmax rescales
    [InlineData(2, 1, 290, 64, 1, 0)]   // hs 64, default tile, two key chunks
    public void Forward_MatchesDoubleReference(int threads, int b, int t, int c, int nh, int tileWidths)
    {
        var d = MakeData(b, t, c, nh, seed: (b * 100) + t + c + nh);
        var expected = Reference(d.Qkv, b, t, c, nh);
        var expectedLse = ReferenceLse(d.Qkv, b, t, c, nh);

        var r = RunFlash(threads, d, Tile(tileWidths));

        AssertCloseToScale(expected, r.Out, 1e-5, "out");
        AssertClose(expectedLse, r.Lse, 1e-6, 1e-6, "lse");
    }

    /// <summary>With no tile given, a sequence of up to 64 positions is one query tile; longer ones take the default tile.</summary>
    [Theory]
    [InlineData(1, 1, 1, 20, 4)]    // one position
    [InlineData(2, 2, 37, 20, 2)]   // hs 10: a vector and a tail; T not a multiple of the vector width
    [InlineData(1, 2, 64, 128, 4)]  // the default run's shape
    [InlineData(2, 1, 65, 64, 1)]   // just past the limit: tiles of 32
    public void Forward_DefaultTile_MatchesDoubleReference(int threads, int b, int t, int c, int nh)
    {
        Assert.Equal(t <= FlashAttention.ShortSequenceLimit ? (t + W - 1) / W * W : FlashAttention.DefaultTile, FlashAttention.ForwardTileFor(t));
        var d = MakeData(b, t, c, nh, seed: 500 + (b * 100) + t + c + nh);
        var r = RunFlash(threads, d, tile: 0);

        AssertCloseToScale(Reference(d.Qkv, b, t, c, nh), r.Out, 1e-5, "out");
        AssertClose(ReferenceLse(d.Qkv, b, t, c, nh), r.Lse, 1e-6, 1e-6, "lse");
    }

    [Theory]
    [InlineData(1, 2, 7, 20, 2, 1)]
    [InlineData(2, 1, 33, 20, 4, 0)]
    [InlineData(2, 1, 65, 64, 1, 0)]
    [InlineData(2, 2, 100, 192, 3, 0)]
    [InlineData(1, 1, 100, 30, 3, 1)]
    public void Forward_MatchesPlainAttention(int threads, int b, int t, int c, int nh, int tileWidths)
    {
        var d = MakeData(b, t, c, nh, seed: 300 + t + c);
        var plain = Run(threads, d);
        var flash = RunFlash(threads, d, Tile(tileWidths));
        AssertCloseToScale(ToDouble(plain.Out), flash.Out, 2e-6, "out vs plain attention");
    }

    /// <summary>Scores in the hundreds overflow exp in float unless the running max is subtracted and rescaled correctly.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void LargeScores_StayFiniteAndAccurate(int tileWidths)
    {
        var d = MakeData(1, 40, 24, 2, seed: 2, range: 12);
        var expected = Reference(d.Qkv, 1, 40, 24, 2);
        var g = NumericalGradient(x => Dot(d.DOut, Reference(x, 1, 40, 24, 2)), d.Qkv, h: 1e-6);
        var plain = Run(1, d);

        var r = RunFlash(1, d, Tile(tileWidths));

        AssertCloseToScale(expected, r.Out, 1e-4, "out");
        AssertClose(ReferenceLse(d.Qkv, 1, 40, 24, 2), r.Lse, 1e-6, 1e-4, "lse");
        AssertCloseToScale(ToDouble(plain.DQkv), r.DQkv, 1e-3, "dqkv vs plain attention");
        AssertCloseToScale(g, r.DQkv, 1e-3, "dqkv vs finite differences");
    }

    [Theory]
    [InlineData(1, 1, 1, 20, 4, 1)]     // a single position: dq = dk = 0, dv = dout
    [InlineData(2, 2, 7, 20, 2, 1)]     // hs 10
    [InlineData(1, 1, 17, 20, 4, 1)]    // hs 5, three tiles of 8 on AVX2
    [InlineData(2, 1, 33, 12, 2, 1)]    // hs 6, five tiles
    [InlineData(1, 2, 33, 10, 2, 0)]    // hs 5, default tile: a full tile and one row
    [InlineData(2, 1, 9, 64, 1, 1)]     // hs 64
    public void Backward_MatchesFiniteDifferences(int threads, int b, int t, int c, int nh, int tileWidths)
    {
        var d = MakeData(b, t, c, nh, seed: 1000 + (b * 100) + t + c + nh);
        var g = NumericalGradient(x => Dot(d.DOut, Reference(x, b, t, c, nh)), d.Qkv);

        var r = RunFlash(threads, d, Tile(tileWidths));

        AssertCloseToScale(g, r.DQkv, 1e-4, "dqkv");
    }

    /// <summary>The whole-head backward (no tile given, short sequences, heads of whole vectors): head sizes in vector widths, so the cases mean the same on AVX2 and AVX-512.</summary>
    [Theory]
    [InlineData(1, 1, 1, 2, 1)]     // a single position
    [InlineData(2, 2, 13, 2, 1)]    // T not a multiple of the vector width: padded key columns
    [InlineData(1, 1, 8, 1, 2)]     // two vectors per head
    [InlineData(2, 1, 21, 3, 1)]    // three heads, four-row blocks with a remainder
    public void WholeHeadBackward_MatchesFiniteDifferences(int threads, int b, int t, int nh, int hsWidths)
    {
        int c = nh * hsWidths * W;
        Assert.True(FlashAttention.UsesWholeHeadBackward(t, c, nh, tile: 0));
        var d = MakeData(b, t, c, nh, seed: 3000 + (b * 100) + t + c + nh);
        var g = NumericalGradient(x => Dot(d.DOut, Reference(x, b, t, c, nh)), d.Qkv);

        var r = RunFlash(threads, d, tile: 0);

        AssertCloseToScale(g, r.DQkv, 1e-4, "dqkv");
    }

    /// <summary>The whole-head backward at the default model's size (T = 64, hs = 32) and the longest sequence it takes, against plain attention, and deterministic across thread counts.</summary>
    [Theory]
    [InlineData(6, 64, 128, 4)]
    [InlineData(2, FlashAttention.ShortSequenceLimit - 3, 64, 2)]
    public void WholeHeadBackward_MatchesPlainAttention(int b, int t, int c, int nh)
    {
        Assert.True(FlashAttention.UsesWholeHeadBackward(t, c, nh, tile: 0));
        Assert.False(FlashAttention.UsesWholeHeadBackward(FlashAttention.ShortSequenceLimit + 1, c, nh, tile: 0));
        var d = MakeData(b, t, c, nh, seed: 4000 + t + c + nh);
        var plain = Run(2, d);
        var one = RunFlash(1, d, tile: 0);
        var two = RunFlash(2, d, tile: 0);
        AssertCloseToScale(ToDouble(plain.Out), one.Out, 2e-6, "out vs plain attention (the forward's default tile: the whole sequence)");
        AssertCloseToScale(ToDouble(plain.DQkv), one.DQkv, 1e-5, "dqkv vs plain attention");
        AssertBitIdentical(one.Out, two.Out, "out, 1 vs 2 threads");
        AssertBitIdentical(one.DQkv, two.DQkv, "dqkv, 1 vs 2 threads");
    }

    [Theory]
    [InlineData(1, 1, 1, 20, 4, 0)]
    [InlineData(2, 2, 7, 20, 2, 1)]
    [InlineData(1, 1, 33, 20, 4, 0)]
    [InlineData(2, 2, 65, 30, 3, 1)]
    [InlineData(2, 1, 65, 64, 1, 0)]
    [InlineData(1, 2, 100, 128, 2, 0)]
    [InlineData(2, 1, 100, 50, 10, 2)]
    [InlineData(1, 1, 300, 20, 2, 1)]   // over 256 keys: two forward key chunks, five backward query chunks
    public void Backward_MatchesPlainAttention(int threads, int b, int t, int c, int nh, int tileWidths)
    {
        var d = MakeData(b, t, c, nh, seed: 2000 + t + c + nh);
        var plain = Run(threads, d);
        var flash = RunFlash(threads, d, Tile(tileWidths));
        AssertCloseToScale(ToDouble(plain.DQkv), flash.DQkv, 1e-5, "dqkv vs plain attention");
    }

    /// <summary>dqkv starts as NaN in every run here; it must come out as exactly what a fresh buffer gives, through CpuKernels too.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void CpuKernels_DefaultsToFlashAndOverwritesDQkv(int threads)
    {
        var d = MakeData(2, 37, 40, 4, seed: 19);
        var direct = RunFlash(threads, d, tile: 0);
        var wrapped = RunFlash(threads, d, tile: 0, viaCpuKernels: true);
        AssertBitIdentical(direct.Out, wrapped.Out, "out");
        AssertBitIdentical(direct.Lse, wrapped.Lse, "lse");
        AssertBitIdentical(direct.DQkv, wrapped.DQkv, "dqkv");
        Assert.All(wrapped.DQkv, x => Assert.True(float.IsFinite(x)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Deterministic_AcrossRunsAndThreadCounts(int tileWidths)
    {
        var d = MakeData(3, 45, 20, 4, seed: 21);
        var a = RunFlash(1, d, Tile(tileWidths));
        foreach (var (threads, label) in new[] { (1, "1 thread, again"), (2, "2 threads"), (2, "2 threads, again") })
        {
            var b = RunFlash(threads, d, Tile(tileWidths));
            AssertBitIdentical(a.Out, b.Out, $"out ({label})");
            AssertBitIdentical(a.Lse, b.Lse, $"lse ({label})");
            AssertBitIdentical(a.DQkv, b.DQkv, $"dqkv ({label})");
        }
    }

    /// <summary>
    /// Query tiles never read key tiles after them: with every position from one tile boundary on
    /// poisoned with NaN, the outputs before it are finite and bit-identical to a run on the prefix alone.
    /// </summary>
    [Fact]
    public void Forward_NeverReadsKeyTilesAfterTheQueryTile()
    {
        int tile = Tile(1), t = (3 * tile) + 5, prefix = tile, c = 20, nh = 2;
        var full = MakeData(1, t, c, nh, seed: 23);
        var poisoned = (double[])full.Qkv.Clone();
        Array.Fill(poisoned, double.NaN, prefix * 3 * c, (t - prefix) * 3 * c);
        var shortData = full with { T = prefix, Qkv = full.Qkv[..(prefix * 3 * c)], DOut = full.DOut[..(prefix * c)] };

        var r = RunForward(full with { Qkv = poisoned }, tile);
        var s = RunForward(shortData, tile);

        AssertBitIdentical(s, r.AsSpan(0, prefix * c), "out of the positions before the poison");
    }

    private static float[] RunForward(AttentionTests.Data d, int tile)
    {
        using var runner = new ParallelRunner(2);
        using var qkv = GuardedBuffer.From("qkv", d.Qkv);
        using var o = GuardedBuffer.Filled("out", d.B * d.T * d.C, float.NaN);
        using var lse = GuardedBuffer.Filled("lse", d.B * d.NH * d.T, float.NaN);
        FlashAttention.Forward(runner, o.Pointer, lse.Pointer, qkv.Pointer, d.B, d.T, d.C, d.NH, tile);
        AssertGuardsIntact(qkv, o, lse);
        return o.ToArray();
    }

    [Fact]
    public void Memory_IsLinearInT()
    {
        const int b = 4, c = 768, nh = 12;
        Assert.Equal((long)b * nh * 1024, FlashAttention.StateSize(b, 1024, nh));
        Assert.Equal(2 * FlashAttention.StateSize(b, 1024, nh), FlashAttention.StateSize(b, 2048, nh));
        long s1 = FlashAttention.ScratchSize(b, 1024, c, nh), s2 = FlashAttention.ScratchSize(b, 2048, c, nh), s4 = FlashAttention.ScratchSize(b, 4096, c, nh);
        Assert.Equal(s2 - s1, (s4 - s2) / 2); // affine in T: a constant per-tile part plus a part per position
        Assert.True(s1 < (long)b * 1024 * 3 * c, $"scratch {s1} floats should be below the size of qkv");
    }

    [Fact]
    public void Tile_MustBeAPositiveMultipleOfTheVectorWidth()
    {
        foreach (int tile in new[] { -W, W + (W / 2) })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => FlashAttention.ScratchSize(1, 8, 8, 1, tile));
        }

        // 0 asks for the tile that suits the sequence length (heads of 5 floats: not the whole-head backward).
        Assert.Equal(FlashAttention.ScratchSize(1, 64, 10, 2, FlashAttention.ShortSequenceTile), FlashAttention.ScratchSize(1, 64, 10, 2, 0));
        Assert.Equal(FlashAttention.ScratchSize(1, 65, 8, 1, FlashAttention.DefaultTile), FlashAttention.ScratchSize(1, 65, 8, 1, 0));
    }
}
