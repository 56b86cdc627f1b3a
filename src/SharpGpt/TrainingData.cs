using Microsoft.Extensions.AI;
using SharpGpt.Data;

namespace SharpGpt;

/// <summary>
/// The tokens a model trains and validates on, with their tokenizer: a folder prepared by
/// <see cref="DataPreparer"/> (or <c>sharpgpt prepare</c>), or text, documents or token ids held in memory.
/// Training reads the train split in order (or in random windows), and validates on the validation split.
/// </summary>
public sealed class TrainingData
{
    private TrainingData(string name, GptTokenizer tokenizer, TokenShards train, TokenShards? validation, ChatTemplate? chatTemplate)
    {
        Name = name;
        Tokenizer = tokenizer;
        Train = train;
        Validation = validation;
        ChatTemplate = chatTemplate;
        TrainTokenCount = Count(train);
        ValidationTokenCount = validation is null ? 0 : Count(validation);
    }

    /// <summary>Where the data is: the prepared folder's full path, or "memory".</summary>
    public string Name { get; }

    /// <summary>The tokenizer the tokens were made with; a model trained on them records it.</summary>
    public GptTokenizer Tokenizer { get; }

    /// <summary>The chat template of fine-tuning data made from conversations or prompt/completion pairs; null for plain text.</summary>
    public ChatTemplate? ChatTemplate { get; }

    /// <summary>Tokens in the train split.</summary>
    public long TrainTokenCount { get; }

    /// <summary>Tokens in the validation split; 0 when there is none.</summary>
    public long ValidationTokenCount { get; }

    internal TokenShards Train { get; }

    internal TokenShards? Validation { get; }

    /// <summary>A folder made by <see cref="DataPreparer.Prepare"/>: its train_*.bin and val_*.bin shards, and its
    /// tokenizer; for fine-tuning data also the shards' loss masks and the chat template its meta.json records.</summary>
    /// <param name="path">The folder.</param>
    /// <returns>The data.</returns>
    /// <exception cref="SharpGptException">The folder is missing, or is not a prepared data folder, or its masks do
    /// not match what its meta.json says.</exception>
    public static TrainingData FromDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        var tokenizer = TokenizerFactory.LoadForDataDir(full);
        var validation = TokenDataLoader.HasShards(full, "val") ? TokenShards.InFolder(full, "val") : null;
        var train = TokenShards.InFolder(full, "train");
        string metaPath = Path.Combine(full, PreparedDataMeta.FileName);
        var template = File.Exists(metaPath) && PreparedDataMeta.Read(full).ChatTemplate is { } name ? ChatTemplate.FromName(name, metaPath) : null;
        if ((template is not null) != train.HasMasks || (validation is not null && validation.HasMasks != train.HasMasks))
        {
            throw new SharpGptException(full, template is not null
                ? $"{PreparedDataMeta.FileName} says the data is for fine-tuning, but its shards have no loss masks ({TokenMaskFormat.Extension} files)"
                : $"its shards have loss masks ({TokenMaskFormat.Extension} files), but {PreparedDataMeta.FileName} records no chat template", "prepare the data again.");
        }

        return new TrainingData(full, tokenizer, train, validation, template);
    }

    /// <summary>One text split nanoGPT's way: the first (1 - <paramref name="validationFraction"/>) of its characters
    /// train, the rest validate; each part starts with the end-of-text token when the tokenizer has one.</summary>
    /// <param name="text">The text.</param>
    /// <param name="tokenizer">Encodes it; <see cref="GptTokenizer.CreateCharacterLevel"/> of the same text for a character model.</param>
    /// <param name="validationFraction">The share held out, in [0, 1); 0 keeps no validation split.</param>
    /// <returns>The data, in memory.</returns>
    /// <exception cref="ArgumentException">The text is empty, too short to split, or holds a character the tokenizer lacks.</exception>
    public static TrainingData FromText(string text, GptTokenizer tokenizer, double validationFraction = 0.1)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        ArgumentNullException.ThrowIfNull(tokenizer);
        RequireFraction(validationFraction);
        int cut = TextSplit.TrainValCut(text, validationFraction);
        if (cut == 0 || (validationFraction > 0 && cut == text.Length))
        {
            throw new ArgumentException($"{text.Length} characters is too little text to split off a validation fraction of {validationFraction}.", nameof(text));
        }

        var train = Encode(tokenizer, [text[..cut]], nameof(text));
        var validation = validationFraction > 0 ? Encode(tokenizer, [text[cut..]], nameof(text)) : null;
        return InMemory(tokenizer, train, validation);
    }

    /// <summary>Documents, each starting with the end-of-text token when the tokenizer has one; every
    /// 1/<paramref name="validationFraction"/>-th document (the first included) validates, as <c>prepare</c> splits.</summary>
    /// <param name="documents">The documents, in order.</param>
    /// <param name="tokenizer">Encodes them.</param>
    /// <param name="validationFraction">The share of documents held out, in [0, 1); 0 keeps no validation split.</param>
    /// <returns>The data, in memory.</returns>
    /// <exception cref="ArgumentException">There are too few documents to split, or one holds a character the tokenizer lacks.</exception>
    public static TrainingData FromDocuments(IEnumerable<string> documents, GptTokenizer tokenizer, double validationFraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(tokenizer);
        RequireFraction(validationFraction);
        var train = new List<string>();
        var validation = new List<string>();
        long index = 0;
        foreach (var document in documents)
        {
            ArgumentNullException.ThrowIfNull(document, nameof(documents));
            (DataPreparer.IsValidationDocument(index++, validationFraction) ? validation : train).Add(document);
        }

        if (train.Count == 0)
        {
            throw new ArgumentException($"{index} document(s) is too few to split off a validation fraction of {validationFraction}.", nameof(documents));
        }

        return InMemory(tokenizer, Encode(tokenizer, train, nameof(documents)), validation.Count > 0 ? Encode(tokenizer, validation, nameof(documents)) : null);
    }

    /// <summary>Token ids, already encoded by <paramref name="tokenizer"/>.</summary>
    /// <param name="trainTokens">The train split.</param>
    /// <param name="validationTokens">The validation split, or null for none.</param>
    /// <param name="tokenizer">The tokenizer the ids belong to.</param>
    /// <returns>The data, in memory.</returns>
    /// <exception cref="ArgumentException">A split is empty, or an id is outside the tokenizer's vocabulary.</exception>
    public static TrainingData FromTokens(IReadOnlyList<int> trainTokens, IReadOnlyList<int>? validationTokens, GptTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(trainTokens);
        ArgumentNullException.ThrowIfNull(tokenizer);
        return InMemory(tokenizer, Pack(trainTokens, tokenizer, nameof(trainTokens)),
            validationTokens is null ? null : Pack(validationTokens, tokenizer, nameof(validationTokens)));
    }

    /// <summary>The Tiny Shakespeare text that ships in the package (1,115,394 characters), character-level, the last
    /// 10% of it for validation: nanoGPT's shakespeare_char data.</summary>
    /// <returns>The data, in memory.</returns>
    public static TrainingData TinyShakespeare()
    {
        string text = EmbeddedData.TinyShakespeare();
        return FromText(text, CharTokenizer.FromText(text), 0.1);
    }

    internal static TrainingData InMemory(GptTokenizer tokenizer, ushort[] train, ushort[]? validation, ChatTemplate? chatTemplate = null) =>
        new("memory", tokenizer, new MemoryShards([train], "train split (in memory)"),
            validation is null ? null : new MemoryShards([validation], "validation split (in memory)"), chatTemplate);

    /// <summary>Fine-tuning data from conversations, as <c>prepare</c> writes chat records: each conversation goes
    /// through <see cref="ChatTemplate.Transcript"/>, and only the assistant's replies (with the end of each turn) are
    /// trained on; every 1/<paramref name="validationFraction"/>-th conversation (the first included) validates.
    /// A prompt/completion pair is the conversation of a user message and the assistant's reply.</summary>
    /// <param name="conversations">The conversations, in order; each needs an assistant message.</param>
    /// <param name="tokenizer">Encodes them.</param>
    /// <param name="validationFraction">The share held out, in [0, 1); 0 keeps no validation split.</param>
    /// <returns>The data, in memory; training reads it in packed rows as it reads a prepared folder of chat records.</returns>
    /// <exception cref="ArgumentException">There are too few conversations to split, one has no assistant message or
    /// a role that is not a word, or one holds a character the tokenizer lacks.</exception>
    public static TrainingData FromConversations(IEnumerable<IEnumerable<ChatMessage>> conversations, GptTokenizer tokenizer, double validationFraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(conversations);
        ArgumentNullException.ThrowIfNull(tokenizer);
        RequireFraction(validationFraction);
        var train = new ExampleSplit();
        var validation = new ExampleSplit();
        long index = 0;
        foreach (var conversation in conversations)
        {
            ArgumentNullException.ThrowIfNull(conversation, nameof(conversations));
            ChatExample example;
            try
            {
                example = ChatExample.FromMessages([.. conversation.Select(m => ((string?)m.Role.Value, (string?)m.Text))], $"conversation {index}");
            }
            catch (InvalidDataException e)
            {
                throw new ArgumentException(e.Message, nameof(conversations), e);
            }

            (DataPreparer.IsValidationDocument(index++, validationFraction) ? validation : train).Add(example, tokenizer);
        }

        if (train.Tokens.Count == 0)
        {
            throw new ArgumentException($"{index} conversation(s) is too few to split off a validation fraction of {validationFraction}.", nameof(conversations));
        }

        return new("memory", tokenizer, train.Shards("train split (in memory)"), validation.Tokens.Count > 0 ? validation.Shards("validation split (in memory)") : null,
            ChatTemplate.Transcript);
    }

    /// <summary>The tokens and loss mask of the examples of one split, as prepare writes them.</summary>
    private sealed class ExampleSplit
    {
        private readonly List<bool> _trained = [];
        private readonly List<int> _starts = [];

        public List<int> Tokens { get; } = [];

        public void Add(ChatExample example, GptTokenizer tokenizer)
        {
            _starts.Add(Tokens.Count);
            try
            {
                ChatTemplate.Transcript.Example(example.Messages, tokenizer, Tokens, _trained);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException(e.Message, "conversations", e);
            }
        }

        public MemoryShards Shards(string name)
        {
            var mask = new byte[Tokens.Count];
            for (int i = 0; i < mask.Length; i++)
            {
                mask[i] = _trained[i] ? TokenMaskFormat.Trained : (byte)0;
            }

            foreach (int start in _starts)
            {
                mask[start] |= TokenMaskFormat.StartsExample;
            }

            return new MemoryShards([MemoryShards.Pack(Tokens, "conversations")], name, [mask]);
        }
    }

    private static ushort[] Encode(GptTokenizer tokenizer, IReadOnlyList<string> documents, string parameter)
    {
        var tokens = new List<int>();
        foreach (var document in documents)
        {
            if (tokenizer.EndOfTextToken is int eot)
            {
                tokens.Add(eot);
            }

            try
            {
                tokens.AddRange(tokenizer.Encode(document));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException(e.Message, parameter, e);
            }
        }

        return MemoryShards.Pack(tokens, parameter);
    }

    private static ushort[] Pack(IReadOnlyList<int> tokens, GptTokenizer tokenizer, string parameter)
    {
        if (tokens.Count == 0)
        {
            throw new ArgumentException("A split needs at least one token.", parameter);
        }

        for (int i = 0; i < tokens.Count; i++)
        {
            if ((uint)tokens[i] >= (uint)tokenizer.VocabSize)
            {
                throw new ArgumentOutOfRangeException(parameter, tokens[i], $"Token id {tokens[i]} at position {i} is outside the tokenizer's vocabulary [0, {tokenizer.VocabSize}).");
            }
        }

        return MemoryShards.Pack(tokens, parameter);
    }

    private static void RequireFraction(double validationFraction)
    {
        if (!(validationFraction >= 0 && validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be in [0, 1).");
        }
    }

    private static long Count(TokenShards shards)
    {
        long total = 0;
        for (int i = 0; i < shards.Count; i++)
        {
            total += shards.TokenCount(i);
        }

        return total;
    }
}
