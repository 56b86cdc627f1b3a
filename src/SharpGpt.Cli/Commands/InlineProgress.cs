namespace SharpGpt.Cli.Commands;

/// <summary>An <see cref="IProgress{T}"/> that runs its handler at once, on the reporting thread (the framework's
/// <see cref="Progress{T}"/> posts to the thread pool, which would print out of order).</summary>
internal sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
