using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;

namespace SharpGpt.Cli.Commands;

/// <summary>One conversation of <c>sharpgpt chat</c>: reads a line, streams the model's reply as it is generated, and
/// keeps the history while it fits the model's context (the oldest turns are dropped when it no longer does, and the
/// chat says so). <c>/reset</c> clears the history, <c>/exit</c> (or the end of the input) ends the chat, and
/// <see cref="StopAnswer"/> (Ctrl-C) stops the reply in progress, keeping what was shown. With <paramref name="echo"/>
/// (input from a pipe or file, which the terminal does not show) each line read is written after the prompt.</summary>
internal sealed class ChatSession(GptChatClient client, GptModel model, ChatOptions options, string? system, TextReader input, TextWriter output, bool echo = false)
{
    private readonly List<ChatMessage> _history = Start(system);
    private CancellationTokenSource? _answer;

    /// <summary>The conversation so far, the system message first when there is one.</summary>
    public IReadOnlyList<ChatMessage> History => _history;

    /// <summary>Stops the reply being generated; returns false when none is (the chat is waiting for input).</summary>
    public bool StopAnswer()
    {
        var answer = Volatile.Read(ref _answer);
        if (answer is null)
        {
            return false;
        }

        try
        {
            answer.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return false; // the reply ended meanwhile
        }

        return true;
    }

    /// <summary>Runs until /exit or the end of the input.</summary>
    public async Task RunAsync()
    {
        while (true)
        {
            output.Write("you> ");
            output.Flush();
            var line = input.ReadLine();
            if (line is null)
            {
                output.WriteLine();
                return;
            }

            if (echo)
            {
                output.WriteLine(line);
            }

            var text = line.Trim();
            if (text.Length == 0)
            {
                continue;
            }

            if (text.StartsWith('/'))
            {
                if (!Command(text))
                {
                    return;
                }

                continue;
            }

            _history.Add(new ChatMessage(ChatRole.User, line));
            await ReplyAsync();
        }
    }

    private static List<ChatMessage> Start(string? system) => system is { Length: > 0 } ? [new ChatMessage(ChatRole.System, system)] : [];

    /// <returns>False for /exit.</returns>
    private bool Command(string text)
    {
        switch (text.ToLowerInvariant())
        {
            case "/exit" or "/quit":
                return false;
            case "/reset":
                _history.Clear();
                _history.AddRange(Start(system));
                output.WriteLine("(history cleared)");
                return true;
            default:
                output.WriteLine($"(unknown command {text}: /reset clears the history, /exit quits; Ctrl-C stops an answer)");
                return true;
        }
    }

    private async Task ReplyAsync()
    {
        int dropped = client.DropOldestTurns(_history, options.MaxOutputTokens ?? 256);
        if (dropped > 0)
        {
            output.WriteLine(FormattableString.Invariant(
                $"(the conversation no longer fits the model's {model.Config.MaxSeqLen}-token context with room for a reply: the oldest {dropped} message(s) are dropped from the history)"));
        }

        int prompt = client.Prepare(_history, options).Prompt.Count;
        output.Write("assistant> ");
        output.Flush();
        using var answer = new CancellationTokenSource();
        Volatile.Write(ref _answer, answer);
        var reply = new System.Text.StringBuilder();
        UsageDetails? usage = null;
        bool stopped = false;
        long start = Stopwatch.GetTimestamp();
        try
        {
            await foreach (var update in client.GetStreamingResponseAsync(_history, options, answer.Token))
            {
                output.Write(update.Text);
                output.Flush();
                reply.Append(update.Text);
                usage = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details ?? usage;
            }
        }
        catch (OperationCanceledException) when (answer.IsCancellationRequested)
        {
            stopped = true;
        }
        finally
        {
            Volatile.Write(ref _answer, null);
        }

        output.WriteLine();
        string kept = reply.ToString().TrimEnd();
        if (kept.Length > 0)
        {
            _history.Add(new ChatMessage(ChatRole.Assistant, kept));
        }

        // A stopped reply has no usage: its tokens are those of the text shown.
        long tokens = usage?.OutputTokenCount ?? (kept.Length == 0 ? 0 : model.Tokenizer!.Encode(" " + kept).Length);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        string context = string.Create(CultureInfo.InvariantCulture, $"context: prompt {prompt} + reply {tokens} of {model.Config.MaxSeqLen} tokens");
        output.WriteLine(stopped
            ? string.Create(CultureInfo.InvariantCulture, $"(stopped after {tokens} tokens; the history keeps what was shown; {context})")
            : string.Create(CultureInfo.InvariantCulture, $"({tokens} tokens in {seconds:F1} s; {context})"));
    }
}
