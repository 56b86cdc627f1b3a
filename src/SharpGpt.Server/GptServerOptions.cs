using Microsoft.Extensions.Logging;

namespace SharpGpt.Server;

/// <summary>How a <see cref="GptServer"/> listens and how much it takes on. The defaults listen on loopback only
/// (127.0.0.1:8080), with no API key.</summary>
public sealed record GptServerOptions
{
    /// <summary>The address to listen on: an IP address (<c>127.0.0.1</c>, <c>0.0.0.0</c>, <c>::</c>),
    /// <c>localhost</c> (127.0.0.1), or <c>*</c> (every address). 127.0.0.1 by default. Listening beyond loopback
    /// without an <see cref="ApiKey"/> logs a warning.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 takes a free one (see <see cref="GptServer.BaseAddress"/>). 8080 by default.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>When set, every request but the chat page's own must carry <c>Authorization: Bearer</c> and this
    /// key, or it gets 401. Null (the default): no key.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The model's id in <c>/v1/models</c> and in responses; a request naming another model gets 404.
    /// "sharpgpt" by default.</summary>
    public string ModelId { get; init; } = "sharpgpt";

    /// <summary>The most requests decoded together (<see cref="GptBatchGenerator.MaxBatchSize"/>); each holds a KV
    /// cache of 2 x layers x block size x channels floats (75 MiB for GPT-2 124M). 8 by default.</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>The most requests waiting for a place in the batch (<see cref="GptBatchGenerator.MaxQueueLength"/>);
    /// beyond that a request gets 429. 64 by default.</summary>
    public int MaxQueueLength { get; init; } = 64;

    /// <summary>The largest request body taken, in bytes; a larger one gets 413. 1 MiB by default.</summary>
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;

    /// <summary>Where the server logs: a line per request, its warnings and errors. Null (the default): nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Host, nameof(Host));
        ArgumentException.ThrowIfNullOrWhiteSpace(ModelId, nameof(ModelId));
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, "Port must be from 0 (any free port) to 65535.");
        }

        if (ApiKey is { Length: 0 })
        {
            throw new ArgumentException("ApiKey must not be empty; leave it null for no key.", nameof(ApiKey));
        }

        if (MaxBatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, $"MaxBatchSize must be at least 1, got {MaxBatchSize}.");
        }

        if (MaxQueueLength < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQueueLength), MaxQueueLength, $"MaxQueueLength must be 0 (no queue) or more, got {MaxQueueLength}.");
        }

        if (MaxRequestBodyBytes < 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestBodyBytes), MaxRequestBodyBytes, $"MaxRequestBodyBytes must be at least 1024, got {MaxRequestBodyBytes}.");
        }
    }
}
