using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using SharpGpt.Server;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt serve</c>: a checkpoint served over HTTP with OpenAI's API and a chat page, until Ctrl-C
/// (<see cref="GptServer"/>; this command only opens the model and reads its flags).</summary>
internal static class ServeCommand
{
    /// <summary>The environment variable that sets the API key when --api-key is not given.</summary>
    public const string ApiKeyVariable = "SHARPGPT_API_KEY";

    public static Command Create()
    {
        var defaults = new GptServerOptions();
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "Model: a SharpGPT checkpoint (.sgpt), an llm.c GPT-2 checkpoint (.bin), or a Hugging Face model.safetensors or folder", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on: 127.0.0.1 (this machine only), 0.0.0.0 or :: (every interface), localhost or *", DefaultValueFactory = _ => defaults.Host };
        var port = new Option<int>("--port") { Description = "TCP port; 0 takes a free one", DefaultValueFactory = _ => defaults.Port };
        var apiKey = new Option<string?>("--api-key") { Description = $"Every request must send 'Authorization: Bearer KEY' (default: ${ApiKeyVariable}, else no key)" };
        var modelId = new Option<string?>("--model-id") { Description = "The model's name in /v1/models and responses (default: the checkpoint's file name)" };
        var maxBatch = new Option<int>("--max-batch") { Description = "Requests decoded together (each holds a KV cache: 75 MiB for GPT-2 124M)", DefaultValueFactory = _ => defaults.MaxBatchSize };
        var maxQueue = new Option<int>("--max-queue") { Description = "Requests waiting for a place in the batch; beyond that a request gets 429", DefaultValueFactory = _ => defaults.MaxQueueLength };
        var maxBody = new Option<long>("--max-body-bytes") { Description = "Largest request body; a larger one gets 413", DefaultValueFactory = _ => defaults.MaxRequestBodyBytes };
        var tokenizerDir = new Option<DirectoryInfo?>("--tokenizer-dir") { Description = "Prepared data folder whose tokenizer to use (default: the checkpoint's own, or GPT-2 BPE for a 50257-token vocabulary)" };
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var command = new Command("serve", "Serve a checkpoint over HTTP with OpenAI's API (/v1/chat/completions, /v1/completions, streaming, batched decoding) and a chat page at /.")
        {
            checkpoint, host, port, apiKey, modelId, maxBatch, maxQueue, maxBody, tokenizerDir, threads, device,
        };
        command.SetAction((r, cancellation) =>
        {
            var file = r.GetValue(checkpoint)!;
            var modelOptions = CommonOptions.ModelOptions(r.GetValue(device), Precision.Fp32, r.GetValue(threads)) with
            {
                Tokenizer = r.GetValue(tokenizerDir) is { } dir ? TrainingData.FromDirectory(dir.FullName).Tokenizer : null,
            };
            var options = new GptServerOptions
            {
                Host = r.GetValue(host)!,
                Port = r.GetValue(port),
                ApiKey = r.GetValue(apiKey) ?? (Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null),
                ModelId = r.GetValue(modelId) ?? Path.GetFileNameWithoutExtension(file.FullName.TrimEnd(Path.DirectorySeparatorChar)),
                MaxBatchSize = r.GetValue(maxBatch),
                MaxQueueLength = r.GetValue(maxQueue),
                MaxRequestBodyBytes = r.GetValue(maxBody),
            };
            return Run(file.FullName, modelOptions, options, cancellation);
        });
        return command;
    }

    private static async Task<int> Run(string checkpoint, GptModelOptions modelOptions, GptServerOptions options, CancellationToken cancellation)
    {
        using var loggers = LoggerFactory.Create(logging => logging
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss ";
            })
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning)
            // A start that fails is reported once, as one line (ErrorReport), not also as the host's stack trace.
            .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None));
        using var model = GptModel.Open(checkpoint, modelOptions);
        var config = model.Config;
        await using var server = await StartAsync(model, options with { LoggerFactory = loggers }, cancellation);
        Console.Error.WriteLine(FormattableString.Invariant(
            $"serve: {options.ModelId}: {config.NumLayers}L {config.NumHeads}H {config.Channels}C, vocab {config.VocabSize}, context {config.MaxSeqLen}; {model.DeviceDescription}; batch {options.MaxBatchSize}, queue {options.MaxQueueLength}{(options.ApiKey is null ? "" : "; API key required")}"));
        Console.WriteLine($"Chat page:       {server.BaseAddress}");
        Console.WriteLine($"OpenAI base URL: {new Uri(server.BaseAddress, "v1")}");
        Console.WriteLine("Ctrl-C stops the server.");
        using var stop = new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        await server.WaitForShutdownAsync(stop.Token);
        Console.Error.WriteLine("serve: stopped.");
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // the server ends its streams and stops; the process then exits with 0
            stop.Cancel();
        }
    }

    private static async Task<GptServer> StartAsync(GptModel model, GptServerOptions options, CancellationToken cancellation)
    {
        try
        {
            return await GptServer.StartAsync(model, options, cancellation);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            throw new SharpGptException("--port", FormattableString.Invariant($"{options.Host} port {options.Port} is in use"),
                "stop what listens there, or choose another --port (0 takes a free one).", e);
        }
    }
}
