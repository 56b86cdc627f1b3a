using System.Text.Json;

namespace SharpGpt.Server.OpenAi;

/// <summary>A completion request's <c>prompt</c> as token ids: a string, an array of one string, an array of token
/// ids, or an array of one array of token ids. Absent or empty text is an unconditional sample (it starts from
/// &lt;|endoftext|&gt;, as OpenAI's default prompt does). One prompt per request.</summary>
internal static class CompletionPrompt
{
    public static int[] Read(RequestFields fields, GptModel model)
    {
        if (fields.Get("prompt") is not { } prompt)
        {
            return model.EncodePrompt("");
        }

        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                return Encode(model, prompt.GetString()!);
            case JsonValueKind.Array when prompt.GetArrayLength() == 0:
                throw ApiError.InvalidValue("prompt", "the array is empty.");
            case JsonValueKind.Array when prompt[0].ValueKind == JsonValueKind.Number:
                return Tokens(prompt, "prompt", model);
            case JsonValueKind.Array when prompt.GetArrayLength() > 1:
                throw ApiError.Unsupported("prompt", "this server takes one prompt per request.");
            case JsonValueKind.Array when prompt[0].ValueKind == JsonValueKind.String:
                return Encode(model, prompt[0].GetString()!);
            case JsonValueKind.Array when prompt[0].ValueKind == JsonValueKind.Array:
                return Tokens(prompt[0], "prompt[0]", model);
            default:
                throw ApiError.InvalidType("prompt", "a string, an array of token ids, or an array of one of these", prompt.ValueKind);
        }
    }

    private static int[] Encode(GptModel model, string text)
    {
        try
        {
            return model.EncodePrompt(text);
        }
        catch (ArgumentException e)
        {
            throw ApiError.InvalidValue("prompt", $"the model's vocabulary cannot spell it: {FirstSentence(e.Message)}");
        }
    }

    private static int[] Tokens(JsonElement array, string at, GptModel model)
    {
        int vocab = model.Config.VocabSize;
        var tokens = new int[array.GetArrayLength()];
        if (tokens.Length == 0)
        {
            throw ApiError.InvalidValue(at, "the prompt needs at least one token.");
        }

        for (int i = 0; i < tokens.Length; i++)
        {
            long id = RequestFields.IntegerOf(array[i], $"{at}[{i}]");
            if (id < 0 || id >= vocab)
            {
                throw ApiError.InvalidValue($"{at}[{i}]", $"token id {id} is outside the model's vocabulary [0, {vocab}).");
            }

            tokens[i] = (int)id;
        }

        return tokens;
    }

    internal static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" (Parameter", StringComparison.Ordinal);
        return cut >= 0 ? message[..cut] : message;
    }
}
