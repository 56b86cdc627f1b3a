using Microsoft.Extensions.AI;

namespace SharpGpt;

/// <summary>
/// How a conversation becomes the tokens a model reads, for chat and for fine-tuning on conversations.
/// <para>SharpGPT has one template, <see cref="Transcript"/>: plain text with role markers, in GPT-2's own
/// vocabulary, so a fine-tuned model exports to Hugging Face with every token meaning what it meant. Each message
/// is <c>Role: content</c> (System, User, Assistant; another role is written with its name capitalised),
/// messages are separated by a blank line (<c>\n\n</c>), and a conversation starts with &lt;|endoftext|&gt; as
/// every GPT-2 document does (a tokenizer without that token starts with the first message). A prompt ends with
/// <c>Assistant:</c>, after which the model writes its reply. Fine-tuning trains on the assistant's replies
/// only: the content after <c>Assistant:</c> and the end of the turn (the blank line before the next message,
/// or &lt;|endoftext|&gt; after the last one), so the model learns to stop.</para>
/// <para>The same transcript is the documented format for a base model without a template: GPT-2 continues it
/// as the dialogue it looks like, and the stop sequences (<see cref="StopSequences"/>) end its turn where it
/// starts the next message.</para>
/// <para>The pieces are tokenized one by one (the role markers, each content, each separator), in chat as in
/// fine-tuning, so the prompt's tokens are exactly those the model was trained on. <see cref="Render"/> shows
/// the text.</para>
/// </summary>
public sealed class ChatTemplate
{
    private const string Separator = "\n\n";

    private ChatTemplate(string name)
    {
        Name = name;
        StopSequences = [Separator + "User:", Separator + "System:", Separator + "Assistant:"];
    }

    /// <summary>The plain-text transcript template, named "transcript".</summary>
    public static ChatTemplate Transcript { get; } = new("transcript");

    /// <summary>The name recorded with prepared data and in checkpoints.</summary>
    public string Name { get; }

    /// <summary>Text that ends the assistant's turn when the model goes on to write another message.</summary>
    public IReadOnlyList<string> StopSequences { get; }

    /// <summary>The template of a name recorded in a checkpoint or a data folder.</summary>
    /// <param name="name">The name (<see cref="Name"/>).</param>
    /// <returns>The template.</returns>
    /// <exception cref="ArgumentException">No template has that name.</exception>
    public static ChatTemplate FromName(string name) => FromName(name, nameof(name));

    internal static ChatTemplate FromName(string name, string source) =>
        string.Equals(name, Transcript.Name, StringComparison.Ordinal) ? Transcript
        : throw new SharpGptException(source, $"unknown chat template '{name}' (known: {Transcript.Name}); was it written by a newer SharpGPT?");

    /// <summary>The text of a prompt for the assistant's next reply: the messages, then <c>Assistant:</c>. The
    /// leading &lt;|endoftext|&gt; is a token, not text, and is not shown.</summary>
    /// <param name="messages">The conversation so far.</param>
    /// <returns>The prompt's text.</returns>
    public string Render(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var text = new System.Text.StringBuilder();
        foreach (var message in messages)
        {
            text.Append(Marker(message.Role)).Append(' ').Append(message.Text).Append(Separator);
        }

        return text.Append(Marker(ChatRole.Assistant)).ToString();
    }

    /// <summary>The tokens of a prompt for the assistant's next reply (what <see cref="Render"/> shows, tokenized
    /// piece by piece, after &lt;|endoftext|&gt;).</summary>
    internal List<int> PromptTokens(IEnumerable<ChatMessage> messages, GptTokenizer tokenizer)
    {
        var tokens = new List<int>();
        Start(tokens, tokenizer);
        foreach (var message in messages)
        {
            AppendMessage(tokens, null, tokenizer, message.Role, message.Text, trainOnReply: false, last: false);
        }

        tokens.AddRange(tokenizer.Encode(Marker(ChatRole.Assistant)));
        return tokens;
    }

    /// <summary>The tokens of one training example and, for each, whether it is trained on (the replies of the
    /// assistant and their ends).</summary>
    internal void Example(IReadOnlyList<(ChatRole Role, string Content)> messages, GptTokenizer tokenizer, List<int> tokens, List<bool> trained)
    {
        Start(tokens, tokenizer);
        trained.AddRange(Enumerable.Repeat(false, tokens.Count - trained.Count));
        for (int i = 0; i < messages.Count; i++)
        {
            AppendMessage(tokens, trained, tokenizer, messages[i].Role, messages[i].Content, trainOnReply: true, last: i == messages.Count - 1);
        }
    }

    /// <summary>The texts the template tokenizes for a conversation (role markers, contents, separators, and the
    /// marker a prompt ends with): what a character vocabulary must cover.</summary>
    internal IEnumerable<string> Pieces(IEnumerable<(ChatRole Role, string Content)> messages)
    {
        foreach (var (role, content) in messages)
        {
            yield return Marker(role);
            yield return " " + content;
            yield return Separator;
        }

        yield return Marker(ChatRole.Assistant);
    }

    /// <summary>The reply as a person reads it: without the space that follows <c>Assistant:</c>, nor trailing space.</summary>
    internal static string CleanReply(string reply) => (reply.StartsWith(' ') ? reply[1..] : reply).TrimEnd();

    private static void Start(List<int> tokens, GptTokenizer tokenizer)
    {
        if (tokenizer.EndOfTextToken is int eot)
        {
            tokens.Add(eot);
        }
    }

    // "Role:" and " content" are tokenized apart (the reply starts after the colon, where generation starts), then
    // the end of the turn: the separator, or the end-of-text token after the last message.
    private static void AppendMessage(List<int> tokens, List<bool>? trained, GptTokenizer tokenizer, ChatRole role, string? content, bool trainOnReply, bool last)
    {
        bool reply = trainOnReply && role == ChatRole.Assistant;
        Add(tokens, trained, tokenizer.Encode(Marker(role)), false);
        Add(tokens, trained, tokenizer.Encode(" " + content), reply);
        if (last && tokenizer.EndOfTextToken is int eot)
        {
            Add(tokens, trained, [eot], reply);
        }
        else
        {
            Add(tokens, trained, tokenizer.Encode(Separator), reply);
        }
    }

    private static void Add(List<int> tokens, List<bool>? trained, int[] piece, bool train)
    {
        tokens.AddRange(piece);
        trained?.AddRange(Enumerable.Repeat(train, piece.Length));
    }

    private static string Marker(ChatRole role)
    {
        string name = role.Value;
        return name.Length == 0 ? ":" : char.ToUpperInvariant(name[0]) + name[1..].ToLowerInvariant() + ":";
    }
}
