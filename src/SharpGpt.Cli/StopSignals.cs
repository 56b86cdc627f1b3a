using System.Runtime.InteropServices;
using SharpGpt.Formats;

namespace SharpGpt.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM during training. The first asks the run to stop after the optimizer step
/// in progress, which then writes a checkpoint (<see cref="Token"/>); the second stops the process at
/// once, after deleting the temporary files of checkpoints being written, so no half-written file stays.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    /// <summary>The exit code of a run stopped by a signal (128 + SIGINT, as shells report Ctrl-C).</summary>
    public const int ExitCode = 130;

    private readonly CancellationTokenSource _stop = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly string _command;
    private int _signals;

    public StopSignals(string command)
    {
        _command = command;
        foreach (var signal in (PosixSignal[])[PosixSignal.SIGINT, PosixSignal.SIGTERM])
        {
            try
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, Handle));
            }
            catch (PlatformNotSupportedException)
            {
                // SIGTERM has no equivalent on some platforms; Ctrl-C still works.
            }
        }
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _stop.Token;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // the process decides when to end, not the runtime
        if (Interlocked.Increment(ref _signals) == 1)
        {
            Console.Error.WriteLine($"sharpgpt {_command}: {context.Signal}: stopping after the step in progress, with a checkpoint; press Ctrl-C again to stop at once.");
            _stop.Cancel();
            return;
        }

        Console.Error.WriteLine($"sharpgpt {_command}: {context.Signal} again: stopping now; the step in progress is lost, the checkpoints written so far stay.");
        AtomicFile.AbandonWrites(() =>
        {
            Console.Out.Flush();
            Console.Error.Flush();
            Environment.Exit(ExitCode);
        });
    }
}
