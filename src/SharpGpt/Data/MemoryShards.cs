namespace SharpGpt.Data;

/// <summary>Token shards held in memory (training data given as text or tokens from code); each is read in place.</summary>
/// <param name="shards">The shards' tokens, in order; at least one.</param>
/// <param name="name">Names the split in errors, e.g. "train (in memory)".</param>
/// <param name="masks">A loss mask per shard, one byte per token (<see cref="TokenMaskFormat"/>), or null for plain text.</param>
internal sealed class MemoryShards(IReadOnlyList<ushort[]> shards, string name, IReadOnlyList<byte[]>? masks = null) : TokenShards
{
    public override int Count => shards.Count;

    public override bool HasMasks => masks is not null;

    public override string Name(int index) => shards.Count == 1 ? name : $"{name}, shard {index}";

    public override int TokenCount(int index) => shards[index].Length;

    public override int Read(int index, ref ushort[] buffer)
    {
        buffer = shards[index];
        return buffer.Length;
    }

    public override void ReadMask(int index, ref byte[] buffer)
    {
        if (masks is null)
        {
            base.ReadMask(index, ref buffer);
        }

        buffer = masks![index];
    }

    /// <summary>Token ids as one shard; throws naming <paramref name="parameter"/> for an id that does not fit a shard's 16 bits.</summary>
    public static ushort[] Pack(IReadOnlyList<int> tokens, string parameter)
    {
        var packed = new ushort[tokens.Count];
        for (int i = 0; i < packed.Length; i++)
        {
            int id = tokens[i];
            if ((uint)id > ushort.MaxValue)
            {
                throw new ArgumentOutOfRangeException(parameter, id, $"Token id {id} at position {i} does not fit the 16-bit token shards (0..{ushort.MaxValue}).");
            }

            packed[i] = (ushort)id;
        }

        return packed;
    }
}
