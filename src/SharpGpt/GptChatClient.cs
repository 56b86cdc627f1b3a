using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace SharpGpt;

/// <summary>
/// A <see cref="GptModel"/> as a Microsoft.Extensions.AI <see cref="IChatClient"/>, so an application written against
/// that interface runs on its own GPT (made by <see cref="GptModel.AsChatClient"/>, or registered with
/// <c>services.AddGptChatClient(path)</c>). Messages are rendered with the model's <see cref="GptModel.ChatTemplate"/>,
/// or for a model without one with <see cref="ChatTemplate.Transcript"/>, the documented base-model format; the oldest
/// messages (the system messages excepted) are left out when the conversation does not fit the block. The reply
/// ends at the template's stop sequences, the end-of-text token, <see cref="ChatOptions.MaxOutputTokens"/> or
/// <see cref="ChatOptions.StopSequences"/>. <see cref="ChatOptions.Temperature"/>, <see cref="ChatOptions.TopK"/>,
/// <see cref="ChatOptions.TopP"/> and <see cref="ChatOptions.Seed"/> map to <see cref="GenerationOptions"/>; usage
/// counts the prompt's and the reply's tokens. The client does not own the model: disposing it leaves the model open.
/// </summary>
public sealed class GptChatClient : IChatClient
{
    private readonly GptModel _model;
    private readonly GenerationOptions _defaults;
    private readonly ChatClientMetadata _metadata;

    /// <summary>Wraps a model.</summary>
    /// <param name="model">The model; it needs a tokenizer.</param>
    /// <param name="defaults">Generation settings for what <see cref="ChatOptions"/> leaves unset; <see cref="GenerationOptions"/>'s defaults when null.</param>
    /// <param name="modelId">The id responses carry; "sharpgpt" when null.</param>
    /// <exception cref="ArgumentException">The model has no tokenizer.</exception>
    public GptChatClient(GptModel model, GenerationOptions? defaults = null, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Tokenizer is null)
        {
            throw new ArgumentException("The model records no tokenizer; open it with GptModelOptions.Tokenizer.", nameof(model));
        }

        _model = model;
        _defaults = defaults ?? new GenerationOptions();
        _defaults.Validate();
        ModelId = modelId ?? "sharpgpt";
        _metadata = new ChatClientMetadata("sharpgpt", providerUri: null, defaultModelId: ModelId);
    }

    /// <summary>The id responses carry.</summary>
    public string ModelId { get; }

    /// <summary>The template messages are rendered with.</summary>
    public ChatTemplate Template => _model.ChatTemplate ?? ChatTemplate.Transcript;

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (prompt, generation) = Prepare(messages, options);
        GenerationResult? result = null;
        await foreach (var piece in _model.GenerateUpdatesAsync(prompt, generation, cancellationToken).ConfigureAwait(false))
        {
            result = piece.Result ?? result;
        }

        var message = new ChatMessage(ChatRole.Assistant, ChatTemplate.CleanReply(result!.Text));
        return new ChatResponse(message)
        {
            ModelId = ModelId,
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = FinishReasonOf(result),
            Usage = Usage(result),
        };
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (prompt, generation) = Prepare(messages, options);
        string responseId = Guid.NewGuid().ToString("N");
        bool started = false;
        await foreach (var piece in _model.GenerateUpdatesAsync(prompt, generation, cancellationToken).ConfigureAwait(false))
        {
            string text = piece.Text;
            if (!started && text.Length > 0)
            {
                // The reply is written after "Assistant:", so its first token carries the space that follows the colon.
                text = text.StartsWith(' ') ? text[1..] : text;
                started = text.Length > 0;
            }

            if (piece.Result is { } result)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(Usage(result))])
                {
                    ResponseId = responseId,
                    MessageId = responseId,
                    ModelId = ModelId,
                    CreatedAt = DateTimeOffset.UtcNow,
                    FinishReason = FinishReasonOf(result),
                };
            }
            else if (text.Length > 0)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, text)
                {
                    ResponseId = responseId,
                    MessageId = responseId,
                    ModelId = ModelId,
                    CreatedAt = DateTimeOffset.UtcNow,
                };
            }
        }
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(_model) ? _model
            : null;
    }

    /// <summary>Does nothing: the model belongs to whoever opened it.</summary>
    public void Dispose()
    {
    }

    /// <summary>The prompt's tokens (the conversation, its oldest turns dropped while it does not fit the block:
    /// <see cref="DropOldestTurns"/>) and the generation settings of <paramref name="options"/> over the defaults.</summary>
    internal (List<int> Prompt, GenerationOptions Generation) Prepare(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var generation = _defaults with
        {
            MaxTokens = options?.MaxOutputTokens ?? _defaults.MaxTokens,
            Temperature = options?.Temperature ?? _defaults.Temperature,
            TopK = options?.TopK ?? _defaults.TopK,
            TopP = options?.TopP ?? _defaults.TopP,
            Seed = options?.Seed is long seed ? unchecked((ulong)seed) : _defaults.Seed,
            StopSequences = [.. Template.StopSequences, .. _defaults.StopSequences, .. options?.StopSequences ?? []],
        };
        generation.Validate();
        var tokenizer = _model.Tokenizer!;
        var conversation = messages.ToList();
        DropOldestTurns(conversation, generation.MaxTokens);
        return (Template.PromptTokens(conversation, tokenizer), generation);
    }

    /// <summary>Drops the oldest turns of <paramref name="conversation"/> (a message and the replies after it; system
    /// messages and the newest message stay) while its prompt leaves less room than a reply of <paramref name="maxTokens"/>
    /// needs (at most half the block); returns the messages dropped. A chat calls it to say what it forgets.</summary>
    internal int DropOldestTurns(List<ChatMessage> conversation, int maxTokens)
    {
        var tokenizer = _model.Tokenizer!;
        int limit = _model.Config.MaxSeqLen - Math.Min(maxTokens, _model.Config.MaxSeqLen / 2);
        int dropped = 0;
        while (Template.PromptTokens(conversation, tokenizer).Count > limit
            && conversation.FindIndex(m => m.Role != ChatRole.System) is int oldest and >= 0 && oldest < conversation.Count - 1)
        {
            do
            {
                conversation.RemoveAt(oldest);
                dropped++;
            }
            while (oldest < conversation.Count - 1 && conversation[oldest].Role == ChatRole.Assistant);
        }

        return dropped;
    }

    private static ChatFinishReason FinishReasonOf(GenerationResult result) =>
        result.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;

    private static UsageDetails Usage(GenerationResult result) => new()
    {
        InputTokenCount = result.PromptTokenCount,
        OutputTokenCount = result.OutputTokenCount,
        TotalTokenCount = result.PromptTokenCount + result.OutputTokenCount,
    };
}
