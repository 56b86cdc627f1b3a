using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using SharpGpt.Server;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt bench-serve</c>: starts the OpenAI-compatible server in this process (a random-init model of a
/// preset, or a checkpoint) and times 1, 4 and 16 (or --streams) concurrent streaming clients over HTTP: the total
/// tokens per second, each stream's, and the time to first token. Rounds alternate the concurrencies, and the medians
/// are reported, so that load from elsewhere on the machine falls on all of them alike.</summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Model shape, random-init: gpt2-124m, gpt2-350m, ... (ignored with --checkpoint)", DefaultValueFactory = _ => "gpt2-124m" };
        var checkpoint = new Option<FileInfo?>("--checkpoint") { Description = "Serve this model instead of a random-init preset" };
        var streams = new Option<string>("--streams") { Description = "Concurrent streaming clients to time, comma-separated", DefaultValueFactory = _ => "1,4,16" };
        var tokens = new Option<int>("--tokens") { Description = "Tokens each client asks for (the end-of-text token is ignored, so each gets all of them)", DefaultValueFactory = _ => 64 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Tokens in each client's prompt (random ids, different per client)", DefaultValueFactory = _ => 16 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds over all the concurrencies; medians are reported", DefaultValueFactory = _ => 3 };
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var command = new Command("bench-serve", "Time the HTTP server: total and per-stream tokens/s and time to first token for 1, 4 and 16 concurrent streaming clients.")
        {
            preset, checkpoint, streams, tokens, promptTokens, rounds, threads, device,
        };
        command.SetAction((r, cancellation) =>
        {
            int[] counts = ParseCounts(r.GetValue(streams)!);
            var modelOptions = CommonOptions.ModelOptions(r.GetValue(device), Precision.Fp32, r.GetValue(threads));
            return Run(r.GetValue(checkpoint)?.FullName, r.GetValue(preset)!, counts, r.GetValue(tokens), r.GetValue(promptTokens), r.GetValue(rounds), modelOptions, cancellation);
        });
        return command;
    }

    private static async Task<int> Run(string? checkpoint, string preset, int[] counts, int tokens, int promptTokens, int rounds, GptModelOptions modelOptions, CancellationToken cancellation)
    {
        if (tokens < 1 || promptTokens < 1 || rounds < 1)
        {
            throw new SharpGptException("--tokens, --prompt-tokens, --rounds", $"must be positive, got {tokens}, {promptTokens} and {rounds}.");
        }

        using var model = checkpoint is null ? GptModel.Create(CommonOptions.Preset(preset), GptTokenizer.Gpt2, modelOptions) : GptModel.Open(checkpoint, modelOptions);
        if (promptTokens + tokens > model.Config.MaxSeqLen)
        {
            throw new SharpGptException("--prompt-tokens, --tokens", $"{promptTokens} + {tokens} exceed the model's context of {model.Config.MaxSeqLen} tokens.");
        }

        var config = model.Config;
        await using var server = await GptServer.StartAsync(model, new GptServerOptions { Port = 0, MaxBatchSize = counts.Max(), MaxQueueLength = counts.Max() }, cancellation);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(30) };
        Console.WriteLine(FormattableString.Invariant(
            $"bench-serve: {(checkpoint is null ? preset + " (random init)" : checkpoint)}: {config.NumLayers}L {config.NumHeads}H {config.Channels}C, {model.ParameterCount / 1e6:F0}M params; {modelOptions.Threads} threads; {model.DeviceDescription}"));
        Console.WriteLine(FormattableString.Invariant($"bench-serve: {CpuName()}, {Environment.ProcessorCount} cores; load average {LoadAverage()}; prompts of {promptTokens} tokens, {tokens} tokens per stream, {rounds} rounds"));

        // Warm-up: the JIT and the first allocations of the KV caches, for every place.
        await RoundAsync(http, counts.Max(), Math.Min(4, tokens), promptTokens, model.Config.VocabSize - 1, 0, cancellation);
        var results = counts.ToDictionary(n => n, _ => new List<RoundResult>());
        for (int round = 0; round < rounds; round++)
        {
            foreach (int n in counts)
            {
                var result = await RoundAsync(http, n, tokens, promptTokens, model.Config.VocabSize - 1, round + 1, cancellation);
                results[n].Add(result);
                Console.WriteLine(FormattableString.Invariant(
                    $"round {round + 1}, {n,2} streams: {result.TokensPerSecond,7:F1} tokens/s in all, {result.TokensPerSecond / n,6:F1} per stream, first token after {result.FirstTokenMedian * 1000,6:F0} ms (median; max {result.FirstTokenMax * 1000:F0} ms)"));
            }
        }

        double single = Median(results[counts[0]].Select(r => r.TokensPerSecond));
        Console.WriteLine();
        Console.WriteLine("| streams | tokens/s (all streams) | tokens/s per stream | x one stream | time to first token, median (max) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        var summary = new List<object>();
        foreach (int n in counts)
        {
            double total = Median(results[n].Select(r => r.TokensPerSecond));
            double first = Median(results[n].Select(r => r.FirstTokenMedian)), firstMax = Median(results[n].Select(r => r.FirstTokenMax));
            Console.WriteLine(FormattableString.Invariant($"| {n} | {total:F1} | {total / n:F1} | {total / single:F2} | {first * 1000:F0} ms ({firstMax * 1000:F0} ms) |"));
            summary.Add(new { streams = n, tokens_per_s = Math.Round(total, 1), per_stream = Math.Round(total / n, 1), speedup = Math.Round(total / single, 2), ttft_ms = Math.Round(first * 1000), ttft_max_ms = Math.Round(firstMax * 1000) });
        }

        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant($"load average {LoadAverage()}"));
        Console.WriteLine(JsonSerializer.Serialize(new { bench = "serve", tokens, prompt_tokens = promptTokens, rounds, results = summary }));
        return 0;
    }

    private sealed record RoundResult(double TokensPerSecond, double FirstTokenMedian, double FirstTokenMax);

    /// <summary>n clients at once, each streaming its own completion; the tokens of all over the time from the first
    /// request to the last [DONE].</summary>
    private static async Task<RoundResult> RoundAsync(HttpClient http, int n, int tokens, int promptTokens, int maxId, int round, CancellationToken cancellation)
    {
        long start = Stopwatch.GetTimestamp();
        var streams = await Task.WhenAll(Enumerable.Range(0, n).Select(i => StreamAsync(http, Prompt(round * 1000 + i, promptTokens, maxId), tokens, start, cancellation)));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double[] first = [.. streams.Select(s => s.FirstToken).Order()];
        return new RoundResult(streams.Sum(s => s.Tokens) / seconds, first[first.Length / 2], first[^1]);
    }

    private static async Task<(int Tokens, double FirstToken)> StreamAsync(HttpClient http, int[] prompt, int tokens, long start, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions")
        {
            Content = JsonContent.Create(new { prompt, max_tokens = tokens, temperature = 0, stream = true, ignore_eos = true }),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        response.EnsureSuccessStatusCode();
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation));
        double firstToken = -1;
        int produced = 0;
        while (await events.ReadLineAsync(cancellation) is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }

            if (firstToken < 0)
            {
                firstToken = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }

            using var chunk = JsonDocument.Parse(line.AsMemory("data: ".Length));
            if (chunk.RootElement.TryGetProperty("usage", out var usage))
            {
                produced = usage.GetProperty("completion_tokens").GetInt32();
            }
        }

        return (produced, firstToken);
    }

    private static int[] Prompt(int seed, int length, int maxId)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => rng.Next(maxId))];
    }

    private static int[] ParseCounts(string text)
    {
        var counts = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            counts.Add(int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n
                : throw new SharpGptException("--streams", $"'{part}' is not a positive number of streams", "e.g. --streams 1,4,16."));
        }

        return counts.Count > 0 ? [.. counts] : throw new SharpGptException("--streams", "no stream counts given", "e.g. --streams 1,4,16.");
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string CpuName()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }
}
