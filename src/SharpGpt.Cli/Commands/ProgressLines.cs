using System.Globalization;

namespace SharpGpt.Cli.Commands;

/// <summary>
/// Progress of a long loop as occasional lines (done of total, elapsed, ETA): silent for the first
/// seconds, so short loops print nothing, then a line every ten seconds and one when the loop ends.
/// A report with done = 1 starts a new loop.
/// </summary>
internal sealed class ProgressLines(Action<string> write)
{
    private const double QuietSeconds = 3;
    private const double IntervalSeconds = 10;
    private double _lastLine = double.NegativeInfinity;
    private bool _printed;

    /// <param name="what">What is counted, e.g. "validation".</param>
    /// <param name="unit">The unit of done and total, e.g. "batches".</param>
    public void Report(string what, string unit, long done, long total, double seconds)
    {
        if (done <= 1)
        {
            (_lastLine, _printed) = (double.NegativeInfinity, false);
        }

        bool finished = done >= total;
        if (finished ? !_printed : seconds < QuietSeconds || seconds - _lastLine < IntervalSeconds)
        {
            return;
        }

        var eta = TimeSpan.FromSeconds(done == 0 ? 0 : seconds / done * (total - done));
        write(string.Create(CultureInfo.InvariantCulture, $"{what} {done:N0}/{total:N0} {unit}, {seconds:F0} s, ETA {eta:hh\\:mm\\:ss}"));
        (_lastLine, _printed) = (seconds, true);
    }
}
