using System.Text.Json.Nodes;

namespace SharpGpt.Server.OpenAi;

/// <summary>
/// The JSON of one response, as OpenAI's API writes it for its endpoint: the whole response, or the chunks of a
/// stream (server-sent events), all with the same id, creation time and model.
/// </summary>
internal abstract class ResponseFormat(string modelId, string idPrefix)
{
    public string Id { get; } = idPrefix + Guid.NewGuid().ToString("N");

    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public string ModelId { get; } = modelId;

    /// <summary>The first chunk of a stream, before any text (chat's announces the assistant's role); null for none.</summary>
    public virtual JsonObject? FirstChunk() => null;

    /// <summary>A chunk of text; null when nothing is left to send of it.</summary>
    public abstract JsonObject? Chunk(string text);

    /// <summary>The chunk that ends the choice, with its finish reason, and with usage when it is not sent apart.</summary>
    public abstract JsonObject LastChunk(string finishReason, JsonObject? usage);

    /// <summary>The chunk stream_options.include_usage asks for: no choices, the usage.</summary>
    public JsonObject UsageChunk(JsonObject usage)
    {
        var chunk = Envelope(ChunkObject, []);
        chunk["usage"] = usage;
        return chunk;
    }

    /// <summary>The whole response of a request that did not stream.</summary>
    public abstract JsonObject Whole(string text, string finishReason, JsonObject usage);

    protected abstract string ChunkObject { get; }

    public static JsonObject Usage(GenerationResult result) => new()
    {
        ["prompt_tokens"] = result.PromptTokenCount,
        ["completion_tokens"] = result.OutputTokenCount,
        ["total_tokens"] = result.PromptTokenCount + result.OutputTokenCount,
    };

    /// <summary>OpenAI's finish reason: "length" when max_tokens ended it, else "stop" (a stop sequence or the end of text).</summary>
    public static string FinishReasonOf(GenerationResult result) => result.FinishReason == FinishReason.Length ? "length" : "stop";

    protected JsonObject Envelope(string type, JsonArray choices) => new()
    {
        ["id"] = Id,
        ["object"] = type,
        ["created"] = Created,
        ["model"] = ModelId,
        ["choices"] = choices,
    };
}
