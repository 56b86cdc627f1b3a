using SharpGpt.Data;

namespace SharpGpt.Tests.FineTuning;

/// <summary>Fine-tuning data built by hand for the tests: examples as (tokens, trained) pairs turned into shards with
/// loss masks, and the masks and shards prepare wrote read back.</summary>
internal static class FineTuningExamples
{
    /// <summary>The mask of examples laid end to end: bit 0 where trained on, bit 1 on each example's first token.</summary>
    public static byte[] Mask(IEnumerable<(int[] Tokens, bool[] Trained)> examples) =>
        [.. examples.SelectMany(e => e.Trained.Select((t, i) => (byte)((t ? TokenMaskFormat.Trained : 0) | (i == 0 ? TokenMaskFormat.StartsExample : 0))))];

    /// <summary>The examples as one shard in memory, with its mask.</summary>
    public static MemoryShards Shards(params (int[] Tokens, bool[] Trained)[] examples) =>
        new([MemoryShards.Pack([.. examples.SelectMany(e => e.Tokens)], "examples")], "examples", [Mask(examples)]);

    /// <summary>Example <paramref name="id"/>: tokens id*100, id*100 + 1, … (so a token says where it came from), the last
    /// <paramref name="answer"/> of them trained on.</summary>
    public static (int[] Tokens, bool[] Trained) Example(int id, int length, int answer) =>
        ([.. Enumerable.Range(id * 100, length)], [.. Enumerable.Range(0, length).Select(i => i >= length - answer)]);

    /// <summary>A split's shards and masks, read back and laid end to end.</summary>
    public static (int[] Tokens, byte[] Mask) Read(IEnumerable<string> shards)
    {
        var tokens = new List<int>();
        var mask = new List<byte>();
        foreach (var shard in shards)
        {
            var read = TokenShardReader.Read(shard);
            tokens.AddRange(read.Select(t => (int)t));
            byte[] buffer = [];
            TokenMaskFile.ReadInto(TokenMaskFormat.PathFor(shard), read.Length, ref buffer);
            mask.AddRange(buffer.AsSpan(0, read.Length).ToArray());
        }

        return ([.. tokens], [.. mask]);
    }
}
