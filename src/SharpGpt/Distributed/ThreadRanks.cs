namespace SharpGpt.Distributed;

/// <summary>
/// Runs a data-parallel body on several ranks that are threads of this process: rank 0 on the
/// calling thread (so it keeps the console), the others on threads of their own. A rank that fails
/// makes the others leave their next collective; the first real failure is rethrown to the caller.
/// </summary>
internal static class ThreadRanks
{
    /// <summary>Runs body(collectives) on <paramref name="ranks"/> ranks and returns rank 0's result.</summary>
    public static T Run<T>(int ranks, Func<ThreadCollectives, T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var group = new ThreadGroup(ranks);
        var threads = new Thread[ranks - 1];
        for (int r = 1; r < ranks; r++)
        {
            int rank = r;
            threads[r - 1] = new Thread(() => RunRank(group, rank, body)) { IsBackground = true, Name = $"sharpgpt-rank-{rank}" };
            threads[r - 1].Start();
        }

        T result = RunRank(group, 0, body);
        foreach (var thread in threads)
        {
            thread.Join();
        }

        if (group.Failure is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        return result;
    }

    private static T RunRank<T>(ThreadGroup group, int rank, Func<ThreadCollectives, T> body)
    {
        using var collectives = new ThreadCollectives(group, rank);
        ulong[]? cores = CorePinning.PinCurrentThread(rank, group.Size);
        try
        {
            return body(collectives);
        }
        catch (Exception e) when (e is not OperationCanceledException || group.Failure is null)
        {
            group.Fail(e);
            return default!;
        }
        catch (OperationCanceledException)
        {
            return default!;
        }
        finally
        {
            CorePinning.Restore(cores);
        }
    }
}
