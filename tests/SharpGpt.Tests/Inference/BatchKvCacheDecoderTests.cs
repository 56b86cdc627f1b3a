using System.Runtime.InteropServices;
using SharpGpt.Inference;
using SharpGpt.Kernels;
using SharpGpt.Tests.Model;
using static SharpGpt.Tests.Inference.InferenceTestModels;

namespace SharpGpt.Tests.Inference;

public sealed class BatchKvCacheDecoderTests
{
    /// <summary>Three sequences join a batch, the last two at the same step (their prompts read in one forward), at
    /// different positions, and run past the block size (sliding) at different steps; at every step each one's logits
    /// are those of a KvCacheDecoder decoding it alone, bit for bit.</summary>
    [Theory]
    [InlineData("tiny", 2)]
    [InlineData("odd", 1)]
    [InlineData("wide", 2)]
    public void EachSlotsLogitsAreBitForBitThoseOfADecodeAlone(string name, int threads)
    {
        var config = ByName(name);
        using var runner = new ParallelRunner(threads);
        using var model = Create(config, runner, seed: 5);
        int[] promptLengths = [1, 4, config.MaxSeqLen - 6];
        int[] joinAt = [0, 3, 3];
        int steps = config.MaxSeqLen + 6;
        int[][] streams = [.. Enumerable.Range(0, 3).Select(i => TestModels.Batch(config, 1, promptLengths[i] + steps, seed: (ulong)(20 + i)).Inputs)];
        var alone = new KvCacheDecoder[3];
        using var batch = new BatchKvCacheDecoder(model, 3);
        try
        {
            var next = new int[3];
            for (int step = 0; step < steps; step++)
            {
                int[] joining = [.. Enumerable.Range(0, 3).Where(i => joinAt[i] == step)];
                if (joining.Length > 0)
                {
                    batch.Prefill(joining, [.. joining.Select(i => streams[i][..promptLengths[i]])]);
                    for (int j = 0; j < joining.Length; j++)
                    {
                        int i = joining[j];
                        alone[i] = new KvCacheDecoder(model);
                        float[] expected = alone[i].Prefill(streams[i].AsSpan(0, promptLengths[i])).ToArray();
                        AssertSameBits(expected, batch.Logits(j), $"slot {i}'s prefill");
                        Assert.Equal(alone[i].Length, batch.Length(i));
                        next[i] = promptLengths[i];
                    }
                }

                // Slot order differs from slot numbers, so a row is not always its slot.
                int[] slots = [.. Enumerable.Range(0, 3).Where(i => joinAt[i] <= step).Reverse()];
                int[] tokens = [.. slots.Select(i => streams[i][next[i]])];
                batch.Append(slots, tokens);
                for (int j = 0; j < slots.Length; j++)
                {
                    int i = slots[j];
                    float[] expected = alone[i].Append(tokens[j]).ToArray();
                    AssertSameBits(expected, batch.Logits(j), $"step {step}, slot {i} at position {next[i]}");
                    Assert.Equal(alone[i].Length, batch.Length(i));
                    Assert.Equal(alone[i].Slides, batch.Slides(i));
                    next[i]++;
                }
            }

            Assert.True(batch.Slides(2) > 0 && batch.Slides(0) > 0, "the long prompts should have slid past the block");
        }
        finally
        {
            foreach (var decoder in alone)
            {
                decoder?.Dispose();
            }
        }
    }

    [Fact]
    public void ABadTokenLeavesEverySlotAsItWas()
    {
        var config = TestModels.Tiny;
        using var runner = new ParallelRunner(1);
        using var model = Create(config, runner);
        using var batch = new BatchKvCacheDecoder(model, 2);
        batch.Prefill(0, [1, 2]);
        batch.Prefill(1, [3]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => batch.Append([0, 1], [5, config.VocabSize]));
        Assert.Contains($"Token id {config.VocabSize} at position 1", e.Message);
        Assert.Equal(2, batch.Length(0));
        Assert.Equal(1, batch.Length(1));
        Assert.Throws<ArgumentException>(() => batch.Prefill(0, []));
        Assert.Equal(config.MaxSeqLen, batch.Rows);
        var tooMany = Assert.Throws<ArgumentException>(() => batch.Prefill([0, 1], [new int[config.MaxSeqLen], [1]]));
        Assert.Contains($"one prefill takes at most {config.MaxSeqLen}", tooMany.Message);
        Assert.Equal(2, batch.Length(0));
        Assert.Throws<ArgumentException>(() => batch.Append([0, 1], [5]));
    }

    private static void AssertSameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string where)
    {
        Assert.Equal(expected.Length, actual.Length);
        var e = MemoryMarshal.Cast<float, int>(expected);
        var a = MemoryMarshal.Cast<float, int>(actual);
        for (int i = 0; i < e.Length; i++)
        {
            Assert.True(e[i] == a[i], $"{where}: logit {i} is {actual[i]:R}, alone {expected[i]:R}");
        }
    }
}
