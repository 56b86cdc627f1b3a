namespace SharpGpt.Gpu.Check;

/// <summary>How far a GPU kernel's output is from its CPU twin's: the largest difference, where, and whether
/// every element is within atol + rtol |cpu|.</summary>
internal sealed record TwinDifference(string What, double MaxDifference, long WorstIndex, float Cpu, float Gpu, bool Passed)
{
    public static TwinDifference Of(string what, ReadOnlySpan<float> cpu, ReadOnlySpan<float> gpu, double rtol, double atol)
    {
        double max = 0;
        long worst = -1, firstFailure = -1;
        for (int i = 0; i < cpu.Length; i++)
        {
            double c = cpu[i], g = gpu[i];
            bool exact = BitConverter.SingleToInt32Bits(cpu[i]) == BitConverter.SingleToInt32Bits(gpu[i]) || (double.IsNaN(c) && double.IsNaN(g));
            double d = exact ? 0 : double.IsNaN(c - g) ? double.PositiveInfinity : Math.Abs(c - g);
            bool within = exact || (rtol + atol > 0 && d <= atol + (rtol * Math.Abs(c)));
            if (d > max || (worst < 0 && !within))
            {
                max = d;
                worst = i;
            }

            if (!within && firstFailure < 0)
            {
                firstFailure = i;
            }
        }

        long at = firstFailure >= 0 ? firstFailure : Math.Max(0, worst);
        return new TwinDifference(what, max, at, cpu.Length == 0 ? 0 : cpu[(int)at], gpu.Length == 0 ? 0 : gpu[(int)at], firstFailure < 0);
    }

    /// <summary>One line: the check, its largest difference, and the first element out of bounds when it failed.</summary>
    public override string ToString() => Passed
        ? FormattableString.Invariant($"{What}: ok (max difference {MaxDifference:G3})")
        : FormattableString.Invariant($"{What}: MISMATCH at element {WorstIndex}: GPU {Gpu}, CPU {Cpu} (max difference {MaxDifference:G3})");
}
