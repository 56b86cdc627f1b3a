using System.Runtime.CompilerServices;
using System.Threading.Channels;
using SharpGpt.Inference;

namespace SharpGpt;

public sealed partial class GptModel
{
    /// <summary>Generates a continuation of <paramref name="prompt"/> with a KV cache. An empty prompt starts
    /// from the end-of-text token (or, for a character vocabulary, a newline): an unconditional sample. A prompt
    /// longer than the block size keeps its last block of tokens; generation past the block size slides the context.</summary>
    /// <param name="prompt">The text to continue.</param>
    /// <param name="options">Length, sampling and stop conditions; the defaults when null.</param>
    /// <param name="cancellationToken">Stops the generation between tokens (it then throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The generated text and tokens, the prompt's length and why it ended.</returns>
    /// <exception cref="ArgumentException">An option is out of range, or the prompt holds a character the vocabulary lacks.</exception>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    public GenerationResult Generate(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return GenerateFromTokens(EncodePrompt(prompt), options, cancellationToken);
    }

    /// <summary>Generates a continuation of a prompt given as token ids (for a model without a tokenizer, or
    /// a prompt built token by token).</summary>
    /// <param name="promptTokens">At least one token id, each in the model's vocabulary.</param>
    /// <param name="options">Length, sampling and stop conditions; the defaults when null.</param>
    /// <param name="cancellationToken">Stops the generation between tokens (it then throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The generated tokens (and their text when the model has a tokenizer).</returns>
    /// <exception cref="ArgumentException">The prompt is empty or holds an id outside the vocabulary, or an option is out of range.</exception>
    public GenerationResult GenerateFromTokens(IReadOnlyList<int> promptTokens, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        int[] prompt = CheckPrompt(promptTokens);
        options ??= new GenerationOptions();
        options.Validate();
        using var turn = TakeTurn(cancellationToken);
        return TextGenerator.Run(Decoder, Tokenizer, prompt, options, null, cancellationToken);
    }

    /// <summary>Generates a continuation of <paramref name="prompt"/> and streams it as it is made: each item is
    /// the new text since the last one, in whole characters (a UTF-8 character split across tokens waits for its
    /// last byte), never showing any part of a stop sequence. The tokens are computed on a thread of their own.</summary>
    /// <param name="prompt">The text to continue (empty: an unconditional sample).</param>
    /// <param name="options">Length, sampling and stop conditions; the defaults when null.</param>
    /// <param name="cancellationToken">Stops the generation between tokens (the enumeration then throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The pieces of text.</returns>
    /// <exception cref="ArgumentException">An option is out of range, or the prompt holds a character the vocabulary lacks.</exception>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    public async IAsyncEnumerable<string> GenerateStreamingAsync(string prompt, GenerationOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        await foreach (var piece in GenerateUpdatesAsync(EncodePrompt(prompt), options, cancellationToken).ConfigureAwait(false))
        {
            if (piece.Text.Length > 0)
            {
                yield return piece.Text;
            }
        }
    }

    /// <summary>Generates a continuation of a prompt given as token ids and streams it as
    /// <see cref="GenerateStreamingAsync"/> does, then reports the whole result (tokens, finish reason, counts) in a last
    /// update whose <see cref="GenerationUpdate.Result"/> is set and whose text is empty.</summary>
    /// <param name="promptTokens">At least one token id, each in the model's vocabulary (<c>model.Tokenizer.Encode(text)</c>).</param>
    /// <param name="options">Length, sampling and stop conditions; the defaults when null.</param>
    /// <param name="cancellationToken">Stops the generation between tokens (the enumeration then throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The updates.</returns>
    /// <exception cref="ArgumentException">The prompt is empty or holds an id outside the vocabulary, or an option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    public async IAsyncEnumerable<GenerationUpdate> GenerateUpdatesAsync(IReadOnlyList<int> promptTokens, GenerationOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        int[] prompt = CheckPrompt(promptTokens);
        options ??= new GenerationOptions();
        options.Validate();
        RequireTokenizer(nameof(promptTokens));
        var pieces = Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var turn = await TakeTurnAsync(cancellationToken).ConfigureAwait(false);
        var producer = Task.Factory.StartNew(() =>
        {
            try
            {
                return TextGenerator.Run(Decoder, Tokenizer, prompt, options, text => pieces.Writer.TryWrite(new GenerationUpdate(text, null)), stop.Token);
            }
            finally
            {
                pieces.Writer.Complete();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        try
        {
            await foreach (var piece in pieces.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                // The tokens may run ahead of the reader: a cancellation stops the pieces already made too.
                cancellationToken.ThrowIfCancellationRequested();
                yield return piece;
            }

            yield return new GenerationUpdate("", await producer.ConfigureAwait(false));
        }
        finally
        {
            // The enumeration ended early (a break, a cancellation): stop the tokens before giving the turn back.
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await producer.ConfigureAwait(false);
            }
            catch (Exception) when (producer.IsCompleted)
            {
                // Its failure, if any, was observed above, or the enumeration was abandoned.
            }
        }
    }

    /// <summary>A generator that decodes many generations together, one forward per token step over all of them
    /// (continuous batching): for a server, or any caller with concurrent requests. See <see cref="GptBatchGenerator"/>
    /// for how it queues, cancels and holds the model's turn. Dispose it before the model.</summary>
    /// <param name="maxBatchSize">The most generations decoded together; each needs its own KV cache of 2 x layers x
    /// block size x channels floats (75 MiB for GPT-2 124M), allocated when first used.</param>
    /// <param name="maxQueueLength">The most generations waiting for a place in the batch; beyond that a generation
    /// throws <see cref="GenerationQueueFullException"/>. 0: none wait.</param>
    /// <returns>The generator; it does not own the model.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchSize"/> is under 1 or
    /// <paramref name="maxQueueLength"/> is negative.</exception>
    public GptBatchGenerator CreateBatchGenerator(int maxBatchSize = 8, int maxQueueLength = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueueLength);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new GptBatchGenerator(this, maxBatchSize, maxQueueLength);
    }

    /// <summary>The model as a Microsoft.Extensions.AI <c>IChatClient</c> (see <see cref="GptChatClient"/>). The client
    /// does not own the model.</summary>
    /// <param name="defaults">Generation settings for what a request's <c>ChatOptions</c> leaves unset; null: <see cref="GenerationOptions"/>'s defaults.</param>
    /// <param name="modelId">The id responses carry; "sharpgpt" when null.</param>
    /// <returns>The chat client.</returns>
    /// <exception cref="ArgumentException">The model has no tokenizer.</exception>
    public GptChatClient AsChatClient(GenerationOptions? defaults = null, string? modelId = null) => new(this, defaults, modelId);

    /// <summary>A prompt's tokens as <see cref="Generate(string, GenerationOptions?, CancellationToken)"/> reads it: the
    /// text's tokens, or for an empty text the token an unconditional sample starts from (the end-of-text token, or
    /// for a character vocabulary a newline).</summary>
    /// <param name="prompt">The prompt.</param>
    /// <returns>The token ids, at least one.</returns>
    /// <exception cref="ArgumentException">The prompt holds a character the vocabulary lacks.</exception>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    public int[] EncodePrompt(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var tokenizer = RequireTokenizer(nameof(prompt));
        return prompt.Length == 0 ? [StartToken(tokenizer)] : Encode(tokenizer, prompt, nameof(prompt));
    }

    /// <summary>The tokens of a prompt for the assistant's next reply to a conversation, rendered with the model's
    /// <see cref="ChatTemplate"/>, or for a model without one with <see cref="ChatTemplate.Transcript"/> (the documented
    /// base-model format): the tokens <see cref="GptChatClient"/> sends, before it leaves out the oldest messages of a
    /// conversation that does not fit the block. Generate from them with the template's
    /// <see cref="ChatTemplate.StopSequences"/>; the reply starts with the space after <c>Assistant:</c>.</summary>
    /// <param name="messages">The conversation so far.</param>
    /// <returns>The token ids.</returns>
    /// <exception cref="ArgumentException">A message holds a character the vocabulary lacks.</exception>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    public int[] EncodeChatPrompt(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var tokenizer = RequireTokenizer(nameof(messages));
        try
        {
            return [.. (ChatTemplate ?? ChatTemplate.Transcript).PromptTokens(messages, tokenizer)];
        }
        catch (ArgumentException e) when (e.ParamName != nameof(messages))
        {
            throw new ArgumentException(e.Message, nameof(messages), e);
        }
    }

    /// <summary>The token an unconditional sample starts from: the end-of-text token (GPT-2), else a newline when
    /// the vocabulary has one (as nanoGPT's character samples do), else its first symbol.</summary>
    internal static int StartToken(GptTokenizer tokenizer)
    {
        if (tokenizer.EndOfTextToken is int eot)
        {
            return eot;
        }

        try
        {
            return tokenizer.Encode("\n")[0];
        }
        catch (ArgumentException)
        {
            return 0;
        }
    }

    internal int[] CheckPrompt(IReadOnlyList<int> promptTokens)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        if (promptTokens.Count == 0)
        {
            throw new ArgumentException("The prompt needs at least one token.", nameof(promptTokens));
        }

        int vocab = Config.VocabSize;
        int[] prompt = [.. promptTokens];
        for (int i = 0; i < prompt.Length; i++)
        {
            if ((uint)prompt[i] >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(promptTokens), prompt[i], $"Token id {prompt[i]} at position {i} is outside the model's vocabulary [0, {vocab}).");
            }
        }

        return prompt;
    }
}
