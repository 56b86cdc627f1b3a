using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace SharpGpt.Server.OpenAi;

/// <summary>A chat request's <c>messages</c> as a conversation: roles system, developer (read as system), user and
/// assistant; content a string, null (an assistant message), or an array of text parts (joined by newlines).</summary>
internal static class ChatMessages
{
    public static List<ChatMessage> Read(RequestFields fields)
    {
        if (fields.Get("messages") is not { } messages)
        {
            throw ApiError.Missing("messages");
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            throw ApiError.InvalidType("messages", "an array of messages", messages.ValueKind);
        }

        if (messages.GetArrayLength() == 0)
        {
            throw ApiError.InvalidValue("messages", "the conversation needs at least one message.");
        }

        var conversation = new List<ChatMessage>();
        int i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            string at = $"messages[{i++}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw ApiError.InvalidType(at, "an object", message.ValueKind);
            }

            var field = new RequestFields(message);
            var role = field.String("role") switch
            {
                null => throw ApiError.Missing($"{at}.role"),
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                var other => throw ApiError.InvalidValue($"{at}.role", $"'{other}' is not a role this model takes (system, developer, user, assistant)."),
            };
            conversation.Add(new ChatMessage(role, Content(field.Get("content"), $"{at}.content", role)));
        }

        return conversation;
    }

    private static string Content(JsonElement? content, string at, ChatRole role)
    {
        switch (content?.ValueKind)
        {
            case null:
                return role == ChatRole.Assistant ? "" : throw ApiError.Missing(at);
            case JsonValueKind.String:
                return content.Value.GetString()!;
            case JsonValueKind.Array:
                var text = new StringBuilder();
                int j = 0;
                foreach (var part in content.Value.EnumerateArray())
                {
                    string partAt = $"{at}[{j++}]";
                    if (part.ValueKind != JsonValueKind.Object)
                    {
                        throw ApiError.InvalidType(partAt, "a content part object", part.ValueKind);
                    }

                    var fields = new RequestFields(part);
                    if (fields.String("type") is not "text")
                    {
                        throw ApiError.Unsupported($"{partAt}.type", $"this model reads text only, not '{fields.String("type")}'.");
                    }

                    text.Append(text.Length > 0 ? "\n" : "").Append(fields.String("text") ?? throw ApiError.Missing($"{partAt}.text"));
                }

                return text.ToString();
            default:
                throw ApiError.InvalidType(at, "a string or an array of content parts", content.Value.ValueKind);
        }
    }
}
