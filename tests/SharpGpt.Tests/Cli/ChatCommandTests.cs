using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using SharpGpt.Cli;
using SharpGpt.Data;
using SharpGpt.Tests.Data;
using SharpGpt.Tests.Kernels;

namespace SharpGpt.Tests.Cli;

/// <summary><c>sharpgpt chat</c>: the history and its limits with the input given on stdin, and in a real terminal
/// (tmux) a reply that streams, Ctrl-C that stops it while the chat goes on, and /reset.</summary>
[Collection(ConsoleCollection.Name)]
public sealed partial class ChatCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>A random GPT-2-vocabulary model whose &lt;|endoftext|&gt; embedding is zero, so its logit is 0 and it
    /// never ranks in the top 50: replies run to their length.</summary>
    private string Model(int block, int layers, int channels, bool fineTuned)
    {
        string path = _temp.File($"chat-{block}-{layers}-{channels}-{fineTuned}.sgpt");
        using var model = GptModel.Create(new GptConfig(block, 50257, layers, 2, channels), options: new GptModelOptions { Threads = 1, Seed = 11 });
        model.Network.Parameters.Span.Slice(Gpt2Tokenizer.EndOfText * channels, channels).Clear();
        if (fineTuned)
        {
            model.AdoptData(TrainingData.FromConversations([[new ChatMessage(ChatRole.User, "a"), new ChatMessage(ChatRole.Assistant, "b")]], model.Tokenizer!, 0));
        }

        model.Save(path);
        return path;
    }

    private static (int Code, string Out, string Err) Chat(string input, params string[] args) => CliRunner.Capture(() =>
    {
        var previous = Console.In;
        Console.SetIn(new StringReader(input));
        try
        {
            return SharpGptCommandLine.Run(["chat", .. args]);
        }
        finally
        {
            Console.SetIn(previous);
        }
    });

    /// <summary>The prompt and reply sizes of each exchange, from the line after it.</summary>
    private static List<(int Prompt, int Reply)> Contexts(string output) =>
        [.. Context().Matches(output).Select(m => (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)))];

    [GeneratedRegex(@"context: prompt (\d+) \+ reply (\d+) of \d+ tokens\)")]
    private static partial Regex Context();

    [Fact]
    public void Reset_clears_the_history_and_the_first_question_is_asked_again_as_new()
    {
        var (code, output, error) = Chat("hello there\nand again\n/reset\nhello there\n/nonsense\n/exit\n",
            "--checkpoint", Model(64, 1, 32, fineTuned: false), "--tokens", "8", "--seed", "7", "--threads", "1");

        Assert.True(code == 0, output + error);
        Assert.Contains("no chat template in the checkpoint, so the base-model format", output);
        var contexts = Contexts(output);
        Assert.Equal(3, contexts.Count);
        Assert.Equal(8, contexts[0].Reply);
        Assert.True(contexts[1].Prompt > contexts[0].Prompt + 8, output); // the second prompt holds the first exchange
        Assert.Equal(contexts[0], contexts[2]);                           // after /reset it holds only the new question
        var replies = output.Split('\n').Where(l => l.StartsWith("assistant> ", StringComparison.Ordinal)).ToList();
        Assert.Equal(replies[0], replies[2]);                     // the same seed and prompt: the same reply
        Assert.Contains("(history cleared)", output);
        Assert.Contains("(unknown command /nonsense: /reset clears the history, /exit quits; Ctrl-C stops an answer)", output);
        Assert.Contains("you> hello there", output);              // piped input is echoed
    }

    [Fact]
    public void When_the_context_is_full_the_oldest_turns_are_dropped_and_the_chat_says_so()
    {
        string question = "please tell me much more about the weather in the mountains today";
        var (code, output, error) = Chat(string.Concat(Enumerable.Repeat(question + "\n", 5)) + "/exit\n",
            "--checkpoint", Model(64, 1, 32, fineTuned: true), "--tokens", "12", "--seed", "1", "--threads", "1");

        Assert.True(code == 0, output + error);
        Assert.Contains("chat template 'transcript', which the model was fine-tuned with", output);
        Assert.Matches(@"\(the conversation no longer fits the model's 64-token context with room for a reply: the oldest 2 message\(s\) are dropped from the history\)", output);
        var contexts = Contexts(output);
        Assert.Equal(5, contexts.Count);
        Assert.All(contexts, c => Assert.InRange(c.Prompt + c.Reply, 1, 64));
    }

    [Fact]
    public void Sample_with_chat_renders_the_prompt_as_chat_does_and_gives_the_same_reply()
    {
        string model = Model(64, 1, 32, fineTuned: true);
        string[] sampling = ["--tokens", "10", "--seed", "5", "--temperature", "1", "--top-k", "50", "--threads", "1"];
        var chat = Chat("hello there\n/exit\n", ["--checkpoint", model, .. sampling]);
        var sample = CliRunner.Run(["sample", "--checkpoint", model, "--prompt", "hello there", "--chat", .. sampling]);

        Assert.True(sample.Code == 0, sample.Out + sample.Err);
        string reply = chat.Out.Split('\n').Single(l => l.StartsWith("assistant> ", StringComparison.Ordinal))["assistant> ".Length..].Trim();
        Assert.True(reply.Length > 0, chat.Out);
        Assert.Equal(reply, sample.Out.Trim());
    }

    [Fact]
    public void In_a_terminal_a_reply_streams_ctrl_c_stops_it_and_the_chat_goes_on()
    {
        if (OperatingSystem.IsWindows() || FindOnPath("tmux") is not { } tmux)
        {
            Assert.Fail("tmux is needed for this test (.ci/run installs it)");
            return;
        }

        string session = "sharpgpt-chat-" + Guid.NewGuid().ToString("N")[..8];
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : FindOnPath("dotnet") ?? "dotnet";
        string command = $"'{dotnet}' '{Path.Combine(AppContext.BaseDirectory, "sharpgpt.dll")}' chat --checkpoint '{Model(128, 2, 64, fineTuned: true)}' "
            + "--tokens 100000 --seed 3 --threads 1; echo CHAT-EXITED $?; sleep 60";
        Run(tmux, "new-session", "-d", "-s", session, "-x", "200", "-y", "50", command);
        try
        {
            string Screen() => Run(tmux, "capture-pane", "-p", "-J", "-S", "-", "-t", session);
            string WaitFor(Func<string, bool> done, string what)
            {
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(90))
                {
                    string screen = Screen();
                    if (done(screen))
                    {
                        return screen;
                    }

                    Thread.Sleep(100);
                }

                throw new TimeoutException($"waited 90 s for {what}; the terminal shows:\n{Screen()}");
            }

            static string Reply(string screen) => screen[(screen.LastIndexOf("assistant> ", StringComparison.Ordinal) + "assistant> ".Length)..].TrimEnd();

            WaitFor(s => s.Contains("you> ", StringComparison.Ordinal), "the prompt");
            Run(tmux, "send-keys", "-t", session, "hello", "Enter");

            // The reply grows on the screen while it is generated: no new prompt yet, more text each time.
            string first = WaitFor(s => s.Contains("assistant> ", StringComparison.Ordinal) && Reply(s).Length >= 20, "the first words of the reply");
            string later = WaitFor(s => Reply(s).Length >= Reply(first).Length + 20, "more of the reply");
            Assert.DoesNotContain("stopped after", later);
            Assert.StartsWith(Reply(first), Reply(later));
            Assert.Single(Regex.Matches(later, "you> "));

            Run(tmux, "send-keys", "-t", session, "C-c");
            string stopped = WaitFor(s => s.Contains("the history keeps what was shown", StringComparison.Ordinal) && Regex.Matches(s, "you> ").Count == 2, "the answer to stop");
            Assert.Matches(@"\(stopped after \d+ tokens", stopped);
            Assert.DoesNotContain("CHAT-EXITED", stopped);
            var context = Contexts(stopped)[0];
            Assert.True(context.Reply >= 5, stopped);

            Run(tmux, "send-keys", "-t", session, "/reset", "Enter");
            WaitFor(s => s.Contains("(history cleared)", StringComparison.Ordinal) && Regex.Matches(s, "you> ").Count == 3, "the history to clear");
            Run(tmux, "send-keys", "-t", session, "hello", "Enter");
            WaitFor(s => Regex.Matches(s, "assistant> ").Count == 2 && Reply(s).Length >= 5, "the second reply");
            Run(tmux, "send-keys", "-t", session, "C-c");
            string second = WaitFor(s => Contexts(s).Count == 2, "the second answer to stop");
            Assert.Equal(context.Prompt, Contexts(second)[1].Prompt); // after /reset the prompt is the new question alone

            Run(tmux, "send-keys", "-t", session, "/exit", "Enter");
            WaitFor(s => s.Contains("CHAT-EXITED 0", StringComparison.Ordinal), "the chat to exit");
        }
        finally
        {
            Run(tmux, "kill-session", "-t", session);
        }
    }

    private static string Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
