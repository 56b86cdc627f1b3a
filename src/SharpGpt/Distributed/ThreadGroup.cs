namespace SharpGpt.Distributed;

/// <summary>
/// What the ranks of one process share when they are threads (<see cref="ThreadCollectives"/>): a
/// spinning barrier, a slot per rank where it publishes the buffer of the collective it is in, and a
/// failure flag, so that when one rank fails the others leave their barrier instead of waiting forever.
/// </summary>
internal sealed unsafe class ThreadGroup
{
    private readonly void*[] _slots;
    private int _arrived;
    private int _generation;
    private Exception? _failure;

    public ThreadGroup(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Size = size;
        _slots = new void*[size];
    }

    public int Size { get; }

    /// <summary>The first failure any rank reported, or null.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>The buffer rank <paramref name="rank"/> published for the current collective.</summary>
    public void* Slot(int rank) => _slots[rank];

    /// <summary>Publishes this rank's buffer, then waits until every rank has published its own.</summary>
    public void PublishAndWait(int rank, void* buffer)
    {
        _slots[rank] = buffer;
        Wait();
    }

    /// <summary>
    /// Waits until every rank has arrived. Spins (yielding the core now and then, never sleeping):
    /// the ranks meet a few times per optimizer step, and a blocking wake-up would cost more than the
    /// wait. Throws when another rank has failed.
    /// </summary>
    public void Wait()
    {
        int generation = Volatile.Read(ref _generation);
        if (Interlocked.Increment(ref _arrived) == Size)
        {
            Volatile.Write(ref _arrived, 0);
            Interlocked.Increment(ref _generation);
            return;
        }

        var spin = default(SpinWait);
        while (Volatile.Read(ref _generation) == generation)
        {
            if (Volatile.Read(ref _failure) is { } failure)
            {
                throw new OperationCanceledException("Another rank of this process failed.", failure);
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Records a rank's failure; the other ranks leave their current or next barrier with an exception.</summary>
    public void Fail(Exception failure) => Interlocked.CompareExchange(ref _failure, failure, null);
}
