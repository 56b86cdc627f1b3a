using Microsoft.Extensions.AI;

namespace SharpGpt.Data;

/// <summary>One fine-tuning example as read from a record: a conversation whose assistant messages are trained on
/// (a prompt/completion pair is a user message and the assistant's reply).</summary>
internal sealed record ChatExample(IReadOnlyList<(ChatRole Role, string Content)> Messages)
{
    public static ChatExample FromPromptCompletion(string prompt, string completion) =>
        new([(ChatRole.User, prompt), (ChatRole.Assistant, completion)]);

    /// <summary>Checks a conversation read from <paramref name="where"/> (a file and its line or row): at least one
    /// message, roles that the transcript can write as a marker, and an assistant message to train on.</summary>
    public static ChatExample FromMessages(IReadOnlyList<(string? Role, string? Content)> messages, string where)
    {
        if (messages.Count == 0)
        {
            throw new InvalidDataException($"{where}: \"messages\" is empty.");
        }

        var checkedMessages = new List<(ChatRole, string)>(messages.Count);
        bool assistant = false;
        for (int i = 0; i < messages.Count; i++)
        {
            var (role, content) = messages[i];
            if (string.IsNullOrEmpty(role) || !role.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                throw new InvalidDataException($"{where}: message {i}: \"role\" is {(role is null ? "missing or null" : $"'{role}'")}; expected system, user or assistant.");
            }

            if (content is null)
            {
                throw new InvalidDataException($"{where}: message {i} ({role}): \"content\" is missing or null; expected a string.");
            }

            var chatRole = new ChatRole(role.ToLowerInvariant());
            assistant |= chatRole == ChatRole.Assistant;
            checkedMessages.Add((chatRole, content));
        }

        return assistant ? new ChatExample(checkedMessages)
            : throw new InvalidDataException($"{where}: no assistant message, so nothing to train on.");
    }

    /// <summary>The text of every piece the transcript writes (markers, contents, separators): what a character
    /// vocabulary must hold.</summary>
    public IEnumerable<string> Texts(ChatTemplate template) => template.Pieces(Messages);
}
