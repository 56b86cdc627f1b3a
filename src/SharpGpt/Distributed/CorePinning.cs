using System.Runtime.InteropServices;

namespace SharpGpt.Distributed;

/// <summary>
/// Pins each thread rank to a core of its own when the ranks take every core the process may use
/// (Linux only). Ranks meet at a spinning barrier once per step, so a rank the scheduler moves, or
/// parks behind the other, holds both back; with as many ranks as cores there is nothing to balance.
/// With spare cores the threads stay free, so two runs on one machine never end up on the same cores.
/// </summary>
internal static partial class CorePinning
{
    private const int MaskWords = 16; // 1024 CPUs

    /// <summary>Pins the calling thread to the <paramref name="rank"/>-th core it may run on, if
    /// <paramref name="ranks"/> equals the number of those cores; returns the mask to restore, or null
    /// when it left the thread as it was.</summary>
    public static ulong[]? PinCurrentThread(int rank, int ranks)
    {
        if (ranks < 2 || CurrentMask() is not { } saved || CountBits(saved) != ranks)
        {
            return null;
        }

        var mine = new ulong[MaskWords];
        int cpu = NthSetBit(saved, rank);
        mine[cpu / 64] = 1UL << (cpu % 64);
        return SetAffinity(0, MaskWords * sizeof(ulong), mine) == 0 ? saved : null;
    }

    /// <summary>Gives the calling thread back the cores it had before <see cref="PinCurrentThread"/>.</summary>
    public static void Restore(ulong[]? saved)
    {
        if (saved is not null)
        {
            SetAffinity(0, MaskWords * sizeof(ulong), saved);
        }
    }

    /// <summary>How many cores the calling thread may run on, or -1 where that is not known.</summary>
    public static int AllowedCoreCount() => CurrentMask() is { } mask ? CountBits(mask) : -1;

    /// <summary>The calling thread's affinity mask, or null off Linux or where libc does not give it.</summary>
    private static ulong[]? CurrentMask()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var mask = new ulong[MaskWords];
        try
        {
            return GetAffinity(0, MaskWords * sizeof(ulong), mask) == 0 ? mask : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static int CountBits(ulong[] mask)
    {
        int n = 0;
        foreach (ulong word in mask)
        {
            n += System.Numerics.BitOperations.PopCount(word);
        }

        return n;
    }

    private static int NthSetBit(ulong[] mask, int index)
    {
        for (int cpu = 0; cpu < mask.Length * 64; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0 && index-- == 0)
            {
                return cpu;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(index));
    }

    [LibraryImport("libc", EntryPoint = "sched_getaffinity")]
    private static partial int GetAffinity(int pid, nint size, [Out] ulong[] mask);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity")]
    private static partial int SetAffinity(int pid, nint size, ulong[] mask);
}
