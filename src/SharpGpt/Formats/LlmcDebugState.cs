using SharpGpt.Model;

namespace SharpGpt.Formats;

/// <summary>
/// llm.c's debug state (magic 20240327, version 2): B, T, then inputs and targets (int32, B*T),
/// the expected logits (B, T, V) over the real vocabulary, the expected loss, and the expected
/// gradient of every parameter in checkpoint order.
/// </summary>
internal sealed class LlmcDebugState
{
    public const int Magic = 20240327;
    public const int Version = 2;

    private LlmcDebugState(int b, int t, int[] inputs, int[] targets, float[] logits, float loss, float[] gradients)
    {
        B = b;
        T = t;
        Inputs = inputs;
        Targets = targets;
        ExpectedLogits = logits;
        ExpectedLoss = loss;
        ExpectedGradients = gradients;
    }

    public int B { get; }

    public int T { get; }

    public int[] Inputs { get; }

    public int[] Targets { get; }

    /// <summary>(B, T, V), unpadded.</summary>
    public float[] ExpectedLogits { get; }

    public float ExpectedLoss { get; }

    /// <summary>In <see cref="ParameterLayout"/> order, padded vocab rows included.</summary>
    public float[] ExpectedGradients { get; }

    /// <summary>Reads a state written for a model of the given config; a mismatch names the field.</summary>
    public static LlmcDebugState Read(string path, GptConfig config)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "debug state not found.");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        int[] h = BinaryHeader.Read(stream, path, Magic, "llm.c debug state");
        if (h[1] != Version)
        {
            throw new SharpGptException(path, $"unsupported debug state version {h[1]} (supported: {Version}).");
        }

        int b = h[2], t = h[3];
        if (b <= 0)
        {
            throw new SharpGptException(path, $"batch size B must be positive, got {b}.");
        }

        if (t <= 0 || t > config.MaxSeqLen)
        {
            throw new SharpGptException(path, $"sequence length T = {t} does not fit the model (block size {config.MaxSeqLen}).");
        }

        long bt = (long)b * t;
        long total = new ParameterLayout(config).Total;
        long expected;
        try
        {
            expected = checked(BinaryHeader.Bytes + (2 * bt * 4) + (bt * config.VocabSize * 4) + 4 + (total * 4));
        }
        catch (OverflowException)
        {
            throw new SharpGptException(path, $"batch size B is {b}, out of range: with T = {t} and vocab_size {config.VocabSize} the file would pass 2^63 bytes.");
        }

        if (bt * config.VocabSize > Array.MaxLength)
        {
            throw new SharpGptException(path, $"batch size B is {b}, out of range: B x T x vocab_size = {bt * config.VocabSize} logits do not fit one array.");
        }

        BinaryHeader.RequireLength(stream, path, expected,
            $"B={b}, T={t}, vocab_size={config.VocabSize} and {total} parameter gradients of the model");

        var reader = new BinaryReader(stream);
        int[] inputs = ReadInts(reader, (int)bt);
        int[] targets = ReadInts(reader, (int)bt);
        CheckIds(path, "inputs", inputs, config.VocabSize, allowMasked: false);
        CheckIds(path, "targets", targets, config.VocabSize, allowMasked: true);
        float[] logits = ReadFloats(reader, checked((int)(bt * config.VocabSize)));
        float loss = reader.ReadSingle();
        float[] grads = ReadFloats(reader, checked((int)total));
        return new LlmcDebugState(b, t, inputs, targets, logits, loss, grads);
    }

    private static void CheckIds(string path, string field, int[] ids, int vocab, bool allowMasked)
    {
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] >= vocab || (ids[i] < 0 && !(allowMasked && ids[i] == -1)))
            {
                throw new SharpGptException(path, $"{field}[{i}] = {ids[i]} is outside the model's vocabulary [0, {vocab}).");
            }
        }
    }

    private static int[] ReadInts(BinaryReader reader, int count)
    {
        var data = new int[count];
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        return data;
    }

    private static float[] ReadFloats(BinaryReader reader, int count)
    {
        var data = new float[count];
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        return data;
    }
}
