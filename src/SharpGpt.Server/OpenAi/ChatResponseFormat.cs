using System.Text.Json.Nodes;

namespace SharpGpt.Server.OpenAi;

/// <summary>/v1/chat/completions' JSON: <c>chat.completion</c> and <c>chat.completion.chunk</c>. The reply is cleaned
/// as <see cref="GptChatClient"/> cleans it: the space the model writes after <c>Assistant:</c> is dropped from its
/// start, and a whole reply loses its trailing white space.</summary>
internal sealed class ChatResponseFormat(string modelId) : ResponseFormat(modelId, "chatcmpl-")
{
    private bool _started;

    protected override string ChunkObject => "chat.completion.chunk";

    public override JsonObject FirstChunk() => Choice(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null);

    public override JsonObject? Chunk(string text)
    {
        if (!_started)
        {
            text = text.StartsWith(' ') ? text[1..] : text;
            _started = text.Length > 0;
        }

        return text.Length == 0 ? null : Choice(new JsonObject { ["content"] = text }, null);
    }

    public override JsonObject LastChunk(string finishReason, JsonObject? usage)
    {
        var chunk = Choice(new JsonObject(), finishReason);
        if (usage is not null)
        {
            chunk["usage"] = usage;
        }

        return chunk;
    }

    public override JsonObject Whole(string text, string finishReason, JsonObject usage)
    {
        string reply = (text.StartsWith(' ') ? text[1..] : text).TrimEnd();
        var response = Envelope("chat.completion", [new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = reply, ["refusal"] = null },
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        }]);
        response["usage"] = usage;
        return response;
    }

    private JsonObject Choice(JsonObject delta, string? finishReason) => Envelope(ChunkObject, [new JsonObject
    {
        ["index"] = 0,
        ["delta"] = delta,
        ["logprobs"] = null,
        ["finish_reason"] = finishReason,
    }]);
}
