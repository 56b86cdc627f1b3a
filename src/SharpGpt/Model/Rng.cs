namespace SharpGpt.Model;

/// <summary>
/// xoshiro256** with a SplitMix64 seeder: fast, small, and its whole state fits in a checkpoint,
/// so a resumed run draws exactly the numbers the uninterrupted one would have.
/// </summary>
internal sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;

    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    public ulong[] State
    {
        get => [_s0, _s1, _s2, _s3];
        set => (_s0, _s1, _s2, _s3) = (value[0], value[1], value[2], value[3]);
    }

    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 bits, as a float.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public int NextInt(int maxExclusive) => (int)((NextUInt64() >> 33) % (ulong)maxExclusive);

    /// <summary>A batch of random tokens for timing: n inputs and n targets below the vocabulary size, drawn in turn.</summary>
    public (int[] Inputs, int[] Targets) NextTokens(int n, int vocabulary)
    {
        var inputs = new int[n];
        var targets = new int[n];
        for (int i = 0; i < n; i++)
        {
            inputs[i] = NextInt(vocabulary);
            targets[i] = NextInt(vocabulary);
        }

        return (inputs, targets);
    }

    /// <summary>Fills with N(mean, std) by Box-Muller.</summary>
    public unsafe void FillNormal(float* data, long count, float mean, float std)
    {
        for (long i = 0; i < count; i += 2)
        {
            double u1 = 1.0 - NextDouble();
            double u2 = NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            data[i] = (float)(mean + (std * r * Math.Cos(2 * Math.PI * u2)));
            if (i + 1 < count)
            {
                data[i + 1] = (float)(mean + (std * r * Math.Sin(2 * Math.PI * u2)));
            }
        }
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
