namespace SharpGpt.Kernels;

/// <summary>
/// A fixed team of worker threads that runs one parallel loop at a time with no allocation:
/// the body is a function pointer and its arguments a pointer to a struct on the caller's stack.
/// Parts are claimed dynamically, so a body must make its result independent of which thread
/// runs a part (partition by output, never reduce across parts) to stay deterministic.
/// </summary>
internal sealed unsafe class ParallelRunner : IDisposable
{
    // How long an idle worker polls before it blocks. SpinWait yields the core after its first
    // few spins, so a machine with more busy threads than cores degrades gently instead of
    // spinning threads starving the ones doing work.
    private const int SpinIterations = 2_000;

    private readonly Thread[] _workers;
    private readonly object _lock = new();
    private long _generation;
    private int _sleepers;
    private int _pending;
    private int _nextPart;
    private int _parts;
    private delegate*<int, void*, void> _body;
    private void* _context;
    private bool _disposed;
    private Exception? _failure;

    public ParallelRunner(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"sharpgpt-worker-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Number of threads that take part, the caller included.</summary>
    public int Threads { get; }

    /// <summary>A process-wide runner with one thread per core.</summary>
    public static ParallelRunner Shared { get; } = new(Environment.ProcessorCount);

    /// <summary>Runs body(part, context) for every part in [0, parts) and returns when all are done.</summary>
    public void For(int parts, delegate*<int, void*, void> body, void* context)
    {
        if (parts <= 0)
        {
            return;
        }

        if (parts == 1 || _workers.Length == 0)
        {
            for (int p = 0; p < parts; p++)
            {
                body(p, context);
            }

            return;
        }

        _body = body;
        _context = context;
        _parts = parts;
        _nextPart = 0;
        _failure = null;
        Volatile.Write(ref _pending, _workers.Length);
        Interlocked.Increment(ref _generation);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_lock)
            {
                Monitor.PulseAll(_lock);
            }
        }

        RunParts();
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) != 0)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }

        if (_failure is { } failure)
        {
            throw new AggregateException("A parallel kernel part failed.", failure);
        }
    }

    private void RunParts()
    {
        try
        {
            int part;
            while ((part = Interlocked.Increment(ref _nextPart) - 1) < _parts)
            {
                _body(part, _context);
            }
        }
        catch (Exception e)
        {
            _failure = e;
            Volatile.Write(ref _nextPart, int.MaxValue / 2);
        }
    }

    private void WorkerLoop()
    {
        long seen = 0;
        while (true)
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _generation) == seen)
            {
                if (spin.Count < SpinIterations)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }

                lock (_lock)
                {
                    Interlocked.Increment(ref _sleepers);
                    while (Volatile.Read(ref _generation) == seen && !_disposed)
                    {
                        Monitor.Wait(_lock);
                    }

                    Interlocked.Decrement(ref _sleepers);
                }

                break;
            }

            if (_disposed)
            {
                return;
            }

            seen = Volatile.Read(ref _generation);
            RunParts();
            Interlocked.Decrement(ref _pending);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        lock (_lock)
        {
            _disposed = true;
            Interlocked.Increment(ref _generation);
            Monitor.PulseAll(_lock);
        }
    }
}
