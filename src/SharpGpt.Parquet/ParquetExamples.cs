using Parquet;
using Parquet.Data;
using Parquet.Schema;
using SharpGpt.Data;

namespace SharpGpt.Parquet;

/// <summary>Fine-tuning examples from the rows of a Parquet row group: string columns "prompt" and "completion", or a
/// "messages" column that is a list of structs with string fields "role" and "content" (how Hugging Face stores chat
/// datasets). A row that does not fit throws naming the file, the row group and the row.</summary>
internal static class ParquetExamples
{
    /// <summary>Checks that the file has the columns of <paramref name="format"/>, before any row is read.</summary>
    public static void CheckColumns(ParquetReader reader, string path, DataFormat format)
    {
        if (format == DataFormat.Chat)
        {
            MessageFields(reader, path);
        }
        else
        {
            StringField(reader, path, "prompt");
            StringField(reader, path, "completion");
        }
    }

    public static List<ChatExample> Read(ParquetReader reader, string path, int rowGroup, DataFormat format) =>
        format == DataFormat.Chat ? Conversations(reader, path, rowGroup) : PromptCompletions(reader, path, rowGroup);

    private static List<ChatExample> PromptCompletions(ParquetReader reader, string path, int rowGroup)
    {
        using var prompts = ReadColumn(reader, path, rowGroup, StringField(reader, path, "prompt"));
        using var completions = ReadColumn(reader, path, rowGroup, StringField(reader, path, "completion"));
        var examples = new List<ChatExample>(prompts.Values.Length);
        for (var row = 0; row < prompts.Values.Length; row++)
        {
            examples.Add(ChatExample.FromPromptCompletion(
                Text(prompts, row, path, rowGroup, "prompt"), Text(completions, row, path, rowGroup, "completion")));
        }

        return examples;
    }

    // The role and content leaves share the list's repetition levels: level 0 starts a row, 1 continues its list. A
    // definition level below the list's own means a null or empty list; the leaf's maximum means a value is there.
    private static List<ChatExample> Conversations(ParquetReader reader, string path, int rowGroup)
    {
        var (list, roleField, contentField) = MessageFields(reader, path);
        using var roles = ReadColumn(reader, path, rowGroup, roleField);
        using var contents = ReadColumn(reader, path, rowGroup, contentField);
        var repetition = roles.RepetitionLevels;
        var roleLevels = roles.DefinitionLevels;
        var contentLevels = contents.DefinitionLevels;
        var examples = new List<ChatExample>();
        var messages = new List<(string?, string?)>();
        int roleValue = 0, contentValue = 0, row = -1;
        for (var i = 0; i < repetition.Length; i++)
        {
            if (repetition[i] == 0)
            {
                Finish();
                row++;
            }

            if (roleLevels[i] < list.MaxDefinitionLevel && contentLevels[i] < list.MaxDefinitionLevel)
            {
                continue; // no element: a null or empty list
            }

            string? role = roleLevels[i] == roleField.MaxDefinitionLevel ? roles.Values[roleValue++].ToString() : null;
            string? content = contentLevels[i] == contentField.MaxDefinitionLevel ? contents.Values[contentValue++].ToString() : null;
            messages.Add((role, content));
        }

        Finish();
        return examples;

        void Finish()
        {
            if (row >= 0)
            {
                string where = $"{path}: row group {rowGroup}, row {row}";
                examples.Add(messages.Count > 0 ? ChatExample.FromMessages(messages, where)
                    : throw new InvalidDataException($"{where}: \"messages\" is null or empty."));
                messages.Clear();
            }
        }
    }

    private static string Text(RawColumnData<ReadOnlyMemory<char>> column, int row, string path, int rowGroup, string name)
    {
        var defined = column.DefinitionLevels;
        return defined.IsEmpty || defined[row] != 0 ? column.Values[row].ToString()
            : throw new InvalidDataException($"{path}: row group {rowGroup}, row {row}: \"{name}\" is null.");
    }

    private static RawColumnData<ReadOnlyMemory<char>> ReadColumn(ParquetReader reader, string path, int rowGroup, DataField field)
    {
        try
        {
            using var group = reader.OpenRowGroupReader(rowGroup);
            return (RawColumnData<ReadOnlyMemory<char>>)group.ReadRawColumnDataBaseAsync(field).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (ParquetFiles.IsReadError(e))
        {
            throw new InvalidDataException($"{path}: row group {rowGroup}: cannot read column \"{field.Path}\": {e.Message}", e);
        }
    }

    private static DataField StringField(ParquetReader reader, string path, string name)
    {
        var fields = reader.Schema.Fields;
        if (fields.FirstOrDefault(f => f.Name == name) is not DataField field)
        {
            throw new InvalidDataException($"{path}: no column \"{name}\" (the file has {string.Join(", ", fields.Select(f => f.Name))}); Format prompt-completion reads string columns \"prompt\" and \"completion\".");
        }

        return IsString(field) ? field : throw new InvalidDataException($"{path}: column \"{name}\" holds {(field.IsArray ? "lists" : field.ClrType.Name)}, not text.");
    }

    private static (ListField List, DataField Role, DataField Content) MessageFields(ParquetReader reader, string path)
    {
        var fields = reader.Schema.Fields;
        var messages = fields.FirstOrDefault(f => f.Name == "messages")
            ?? throw new InvalidDataException($"{path}: no column \"messages\" (the file has {string.Join(", ", fields.Select(f => f.Name))}); Format chat reads a \"messages\" column of {{role, content}} lists.");
        if (messages is ListField { Item: StructField item } list && list.MaxRepetitionLevel == 1
            && item.Fields.FirstOrDefault(f => f.Name == "role") is DataField role && IsString(role)
            && item.Fields.FirstOrDefault(f => f.Name == "content") is DataField content && IsString(content))
        {
            return (list, role, content);
        }

        throw new InvalidDataException($"{path}: column \"messages\" is not a list of structs with string fields \"role\" and \"content\".");
    }

    private static bool IsString(DataField field) =>
        !field.IsArray && (field.ClrType == typeof(string) || field.ClrType == typeof(ReadOnlyMemory<char>));
}
