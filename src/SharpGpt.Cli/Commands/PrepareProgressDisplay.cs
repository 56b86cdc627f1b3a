using System.Globalization;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary>Shows how far prepare has come: a live bar on a terminal (bytes of input, tokens/s, ETA), otherwise a
/// plain line every few seconds.</summary>
internal static class PrepareProgressDisplay
{
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(10);

    public static T Run<T>(Func<IProgress<PrepareProgress>, T> work)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return work(new Lines());
        }

        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx => work(new Bar(ctx.AddTask("tokenizing"))));
    }

    private static string Describe(PrepareProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"{ByteSize.Format(p.BytesRead)} of {ByteSize.Format(p.TotalBytes)}, {p.Tokens / 1e6:F1}M tokens, {p.TokensPerSecond / 1e6:F2}M tokens/s");

    private sealed class Bar(ProgressTask task) : IProgress<PrepareProgress>
    {
        public void Report(PrepareProgress value)
        {
            task.MaxValue = Math.Max(1, value.TotalBytes);
            task.Value = value.BytesRead;
            task.Description = Markup.Escape(Describe(value));
        }
    }

    private sealed class Lines : IProgress<PrepareProgress>
    {
        private TimeSpan _next = LineInterval;

        public void Report(PrepareProgress value)
        {
            if (value.Elapsed < _next)
            {
                return;
            }

            _next = value.Elapsed + LineInterval;
            var eta = value.Remaining is { } left ? $", ETA {left:hh\\:mm\\:ss}" : "";
            Console.WriteLine($"prepare: {Describe(value)}{eta}");
        }
    }
}
