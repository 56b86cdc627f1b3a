using System.Text.Json;

namespace SharpGpt.Server.OpenAi;

/// <summary>
/// The parameters /v1/chat/completions and /v1/completions share: length, sampling, stop sequences and streaming,
/// read from a request with every value checked. <c>top_k</c> and <c>ignore_eos</c> are extensions (as in vLLM);
/// <c>n</c> must be 1; features this server does not have (log-probabilities, penalties, logit biases, tools,
/// structured output, echo, best_of, suffix) are turned down with a 400 naming the field rather than ignored.
/// Fields it does not know are ignored, as OpenAI-compatible servers do.
/// </summary>
internal sealed record SamplingRequest
{
    public const int MaxStopSequences = 16, MaxStopLength = 256;

    /// <summary>max_completion_tokens, else max_tokens; null when neither is given.</summary>
    public int? MaxTokens { get; init; }

    public float Temperature { get; init; } = 1f;

    public float TopP { get; init; } = 1f;

    /// <summary>0: the whole vocabulary (the OpenAI API has no top-k).</summary>
    public int TopK { get; init; }

    public ulong? Seed { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];

    public bool Stream { get; init; }

    /// <summary>stream_options.include_usage: usage in a chunk of its own before [DONE], as OpenAI sends it.</summary>
    public bool IncludeUsage { get; init; }

    /// <summary>Generate past the end-of-text token (vLLM's ignore_eos).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>The name of the field that set <see cref="MaxTokens"/>, for messages.</summary>
    public string MaxTokensField { get; init; } = "max_tokens";

    public static SamplingRequest Read(RequestFields fields, bool chat)
    {
        if (fields.Get("n") is { } n && RequestFields.IntegerOf(n, "n") != 1)
        {
            throw ApiError.Unsupported("n", "this server makes one choice per request, so 'n' must be 1.");
        }

        string maxField = fields.Get("max_completion_tokens") is not null ? "max_completion_tokens" : "max_tokens";
        var request = new SamplingRequest
        {
            MaxTokensField = maxField,
            MaxTokens = (int?)fields.Integer(maxField, 1, int.MaxValue),
            Temperature = (float)(fields.Number("temperature", 0, 2) ?? 1),
            TopP = (float)(fields.Number("top_p", 0, 1, minExclusive: true) ?? 1),
            TopK = (int)Math.Max(0, fields.Integer("top_k", -1, int.MaxValue) ?? 0),
            Seed = fields.Integer("seed", long.MinValue, long.MaxValue) is long seed ? unchecked((ulong)seed) : null,
            Stop = StopSequences(fields),
            Stream = fields.Boolean("stream") ?? false,
            IgnoreEos = fields.Boolean("ignore_eos") ?? false,
        };
        if (fields.Get("stream_options") is { } streamOptions)
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                throw ApiError.InvalidType("stream_options", "an object", streamOptions.ValueKind);
            }

            request = request with { IncludeUsage = new RequestFields(streamOptions).Boolean("include_usage") ?? false };
        }

        RefuseMissingFeatures(fields, chat);
        return request;
    }

    /// <summary>The generation's options: this request's, with <paramref name="maxTokens"/> resolved against the
    /// context window and <paramref name="templateStops"/> (a chat template's) before the request's own.</summary>
    public GenerationOptions ToOptions(int maxTokens, IReadOnlyList<string> templateStops) => new()
    {
        MaxTokens = maxTokens,
        Temperature = Temperature,
        TopP = TopP,
        TopK = TopK,
        Seed = Seed,
        StopSequences = [.. templateStops, .. Stop],
        StopAtEndOfText = !IgnoreEos,
    };

    private static string[] StopSequences(RequestFields fields)
    {
        if (fields.Get("stop") is not { } stop)
        {
            return [];
        }

        string[] stops = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array => [.. stop.EnumerateArray().Select((s, i) => s.ValueKind == JsonValueKind.String ? s.GetString()!
                : throw ApiError.InvalidType($"stop[{i}]", "a string", s.ValueKind))],
            _ => throw ApiError.InvalidType("stop", "a string or an array of strings", stop.ValueKind),
        };
        // Bounded: every active sequence's stops are checked on the decoding thread at every token.
        if (stops.Length > MaxStopSequences || stops.Any(s => s.Length is 0 or > MaxStopLength))
        {
            throw ApiError.InvalidValue("stop", $"give at most {MaxStopSequences} stop sequences of 1 to {MaxStopLength} characters each.");
        }

        return stops;
    }

    private static void RefuseMissingFeatures(RequestFields fields, bool chat)
    {
        foreach (string penalty in (string[])["frequency_penalty", "presence_penalty"])
        {
            if (fields.Number(penalty, -2, 2) is double value && value != 0)
            {
                throw ApiError.Unsupported(penalty, "this server has no repetition penalties; leave it out or 0.");
            }
        }

        if (fields.Get("logit_bias") is { } bias && (bias.ValueKind != JsonValueKind.Object || bias.EnumerateObject().Any()))
        {
            throw ApiError.Unsupported("logit_bias", "this server does not bias logits; leave it out or {}.");
        }

        if (chat)
        {
            if (fields.Boolean("logprobs") == true || fields.Get("top_logprobs") is not null)
            {
                throw ApiError.Unsupported(fields.Get("top_logprobs") is not null ? "top_logprobs" : "logprobs", "this server does not return log-probabilities.");
            }

            foreach (string tools in (string[])["tools", "functions"])
            {
                if (fields.Get(tools) is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() > 0)
                {
                    throw ApiError.Unsupported(tools, "this model cannot call tools or functions.");
                }
            }

            if (fields.Get("response_format") is { } format
                && (format.ValueKind != JsonValueKind.Object || new RequestFields(format).String("type") is not (null or "text")))
            {
                throw ApiError.Unsupported("response_format", "this server writes plain text only ({\"type\": \"text\"}).");
            }
        }
        else
        {
            if (fields.Get("logprobs") is not null)
            {
                throw ApiError.Unsupported("logprobs", "this server does not return log-probabilities.");
            }

            if (fields.Boolean("echo") == true)
            {
                throw ApiError.Unsupported("echo", "this server does not echo the prompt.");
            }

            if (fields.Integer("best_of", 1, int.MaxValue) is > 1)
            {
                throw ApiError.Unsupported("best_of", "this server makes one completion per request, so 'best_of' must be 1.");
            }

            if (fields.String("suffix") is { Length: > 0 })
            {
                throw ApiError.Unsupported("suffix", "this server does not insert text before a suffix.");
            }
        }
    }
}
