using Microsoft.Extensions.Logging;
using SharpGpt.Server.OpenAi;

namespace SharpGpt.Server;

/// <summary>What every request of one server shares: the model, its options, the batch generator all generations go
/// through, the log, and the token that ends generations when the server stops. Owns the generator.</summary>
internal sealed class ServerState(GptModel model, GptServerOptions options, CancellationToken stopping, ILogger logger) : IDisposable
{
    public GptModel Model { get; } = model;

    public GptServerOptions Options { get; } = options;

    public GptBatchGenerator Generator { get; } = model.CreateBatchGenerator(options.MaxBatchSize, options.MaxQueueLength);

    public CancellationToken Stopping { get; } = stopping;

    public ILogger Logger { get; } = logger;

    /// <summary>When the server was made, in Unix seconds: the model's "created" in /v1/models.</summary>
    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>A request may name the model; another name than the one served is a 404, as OpenAI answers it.</summary>
    public void CheckModel(RequestFields fields)
    {
        if (fields.String("model") is { Length: > 0 } model && model != Options.ModelId)
        {
            throw new ApiError(404, $"The model '{model}' does not exist; this server serves '{Options.ModelId}'.", "model", "model_not_found");
        }
    }

    /// <summary>The tokens the completion may take: the request's max_tokens when prompt and completion fit the
    /// context window (else a 400 naming the window), or the room the prompt leaves, at most
    /// <paramref name="defaultMaxTokens"/>.</summary>
    /// <param name="field">The request field that holds the prompt: "messages" or "prompt".</param>
    public int CompletionTokens(int promptTokens, SamplingRequest sampling, string field, int defaultMaxTokens)
    {
        int window = Model.Config.MaxSeqLen;
        string what = field == "messages" ? "messages" : "prompt";
        if (sampling.MaxTokens is int max)
        {
            return (long)promptTokens + max <= window ? max
                : throw new ApiError(400, $"This model's maximum context length is {window} tokens. However, you requested {(long)promptTokens + max} tokens "
                    + $"({promptTokens} in the {what}, {max} in the completion). Please reduce the length of the {what} or '{sampling.MaxTokensField}'.",
                    field, "context_length_exceeded");
        }

        return promptTokens < window ? Math.Min(defaultMaxTokens, window - promptTokens)
            : throw new ApiError(400, $"This model's maximum context length is {window} tokens. However, the {what} take {promptTokens} tokens, "
                + $"leaving no room for a completion. Please reduce the length of the {what}.", field, "context_length_exceeded");
    }

    public void Dispose() => Generator.Dispose();
}
