using System.Text.Json.Nodes;

namespace SharpGpt.Server.OpenAi;

/// <summary>/v1/completions' JSON: <c>text_completion</c>, whole or in chunks, the text as the model wrote it.</summary>
internal sealed class CompletionResponseFormat(string modelId) : ResponseFormat(modelId, "cmpl-")
{
    protected override string ChunkObject => "text_completion";

    public override JsonObject? Chunk(string text) => text.Length == 0 ? null : Choice(text, null);

    public override JsonObject LastChunk(string finishReason, JsonObject? usage)
    {
        var chunk = Choice("", finishReason);
        if (usage is not null)
        {
            chunk["usage"] = usage;
        }

        return chunk;
    }

    public override JsonObject Whole(string text, string finishReason, JsonObject usage)
    {
        var response = Choice(text, finishReason);
        response["usage"] = usage;
        return response;
    }

    private JsonObject Choice(string text, string? finishReason) => Envelope(ChunkObject, [new JsonObject
    {
        ["text"] = text,
        ["index"] = 0,
        ["logprobs"] = null,
        ["finish_reason"] = finishReason,
    }]);
}
