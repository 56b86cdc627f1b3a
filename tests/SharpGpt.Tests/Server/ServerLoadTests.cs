using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using SharpGpt.Server;
using SharpGpt.Tests.Inference;

namespace SharpGpt.Tests.Server;

/// <summary>Many clients at once, bounded in number and time: each gets exactly what a decode of its prompt alone
/// gives, whatever the others do, and a client that leaves frees its place at once. The model is character-level,
/// so text and tokens are one to one: equal text is equal tokens.</summary>
public sealed class ServerLoadTests : IAsyncLifetime
{
    private const int Clients = 32, Tokens = 64, Leavers = 4;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private GptModel _model = null!;

    public Task InitializeAsync()
    {
        _model = BatchTestModels.Characters(blockSize: 128);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _model.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>32 streaming clients of 64 tokens each at temperature 0, with 4 more that leave after their first
    /// pieces, through 8 places and a queue: all 32 are answered, each with exactly its own prompt's greedy decode.</summary>
    [Fact]
    public async Task ConcurrentStreamingClientsEachGetTheirOwnDecodeAlone()
    {
        string[] prompts = [.. Enumerable.Range(0, Clients + Leavers).Select(PromptOf)];
        var greedy = new GenerationOptions { Temperature = 0, TopK = 0, MaxTokens = Tokens };
        string[] expected = [.. prompts.Take(Clients).Select(p => _model.Generate(p, greedy).Text)];
        Assert.True(expected.Distinct().Count() >= Clients * 3 / 4, "the continuations should differ, so a mix-up would show");
        Assert.All(expected, e => Assert.Equal(Tokens, e.Length));

        await using var server = await RunningServer.StartAsync(_model, new GptServerOptions { MaxBatchSize = 8, MaxQueueLength = Clients + Leavers });
        using var bound = new CancellationTokenSource(Bound);
        var leavers = Enumerable.Range(Clients, Leavers).Select(i => LeaveEarlyAsync(server, prompts[i], bound.Token)).ToArray();
        var clients = Enumerable.Range(0, Clients).Select(i => StreamAsync(server, prompts[i], bound.Token)).ToArray();
        var answers = await Task.WhenAll(clients);
        await Task.WhenAll(leavers);

        for (int i = 0; i < Clients; i++)
        {
            Assert.True(expected[i] == answers[i].Text, $"client {i} got '{answers[i].Text}', its prompt alone gives '{expected[i]}'");
            Assert.Equal(Tokens, answers[i].CompletionTokens);
            Assert.Equal("length", answers[i].FinishReason);
            Assert.True(answers[i].Chunks > 1, $"client {i}'s answer came in one piece");
        }

        Assert.Equal(8, server.Generator.LargestStep);
        await server.WaitUntilIdleAsync();
    }

    /// <summary>One place: a client streaming a long answer disconnects, and the client queued behind it starts at
    /// once, long before the first answer would have ended.</summary>
    [Fact]
    public async Task AClientThatDisconnectsFreesItsPlaceAtOnce()
    {
        await using var server = await RunningServer.StartAsync(_model, new GptServerOptions { MaxBatchSize = 1, MaxQueueLength = 1 });
        var step = TimeSpan.FromMilliseconds(40);
        server.Generator.StepDelay = step;
        using var bound = new CancellationTokenSource(Bound);
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
        const int longAnswer = 100;
        var first = await server.Http.SendAsync(Request(PromptOf(1), longAnswer), HttpCompletionOption.ResponseHeadersRead, leave.Token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var firstEvents = new StreamReader(await first.Content.ReadAsStreamAsync(leave.Token));
        await firstEvents.ReadLineAsync(leave.Token);

        var waiting = StreamAsync(server, PromptOf(2), bound.Token, maxTokens: 5);
        await WaitForAsync(() => server.Generator.QueuedCount == 1, bound.Token);
        var left = Stopwatch.StartNew();
        await leave.CancelAsync();
        first.Dispose();

        var second = await waiting;
        Assert.Equal(5, second.CompletionTokens);
        // Its 5 tokens take about 5 steps (0.2 s); the first's answer had about 4 s to go.
        var remaining = step * longAnswer;
        Assert.True(left.Elapsed < TimeSpan.FromSeconds(1.5),
            $"the queued client was answered {left.Elapsed.TotalSeconds:F2} s after the first left; the first's answer had {remaining.TotalSeconds:F1} s to go");
        await server.WaitUntilIdleAsync();
    }

    /// <summary>A prompt per client: a different sentence each, every character in the model's vocabulary.</summary>
    private static string PromptOf(int client)
    {
        var rng = new Random(1000 + client);
        const string letters = "abcdefghijklmnopqrstuvwxyz";
        return $"Client {client} asks: " + string.Concat(Enumerable.Range(0, 6 + (client % 9)).Select(_ => letters[rng.Next(letters.Length)]));
    }

    private static HttpRequestMessage Request(string prompt, int maxTokens) => new(HttpMethod.Post, "v1/completions")
    {
        Content = new StringContent(JsonSerializer.Serialize(new { prompt, max_tokens = maxTokens, temperature = 0, stream = true }), Encoding.UTF8, "application/json"),
    };

    private static async Task<(string Text, int CompletionTokens, string? FinishReason, int Chunks)> StreamAsync(RunningServer server, string prompt, CancellationToken cancellationToken,
        int maxTokens = Tokens)
    {
        using var response = await server.Http.SendAsync(Request(prompt, maxTokens), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var text = new StringBuilder();
        int completionTokens = -1, chunks = 0;
        string? finish = null;
        while (await events.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            string data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                return (text.ToString(), completionTokens, finish, chunks);
            }

            var choice = JsonDocument.Parse(data).RootElement;
            var first = choice.GetProperty("choices")[0];
            text.Append(first.GetProperty("text").GetString());
            chunks++;
            finish = first.GetProperty("finish_reason").GetString() ?? finish;
            if (choice.TryGetProperty("usage", out var usage))
            {
                completionTokens = usage.GetProperty("completion_tokens").GetInt32();
            }
        }

        throw new InvalidOperationException("the stream ended without [DONE]");
    }

    /// <summary>Reads two events of a stream, then disconnects.</summary>
    private static async Task LeaveEarlyAsync(RunningServer server, string prompt, CancellationToken cancellationToken)
    {
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var response = await server.Http.SendAsync(Request(prompt, Tokens), HttpCompletionOption.ResponseHeadersRead, leave.Token);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(leave.Token));
        for (int read = 0; read < 2 && await events.ReadLineAsync(leave.Token) is { } line;)
        {
            read += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
        }

        await leave.CancelAsync();
    }

    private static async Task WaitForAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(5, cancellationToken);
        }
    }
}
