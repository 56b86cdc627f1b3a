using System.IO.Compression;
using System.Text.Json;
using Parquet.Serialization;
using SharpGpt.Data;
using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.FineTuning;

/// <summary>prepare on prompt/completion and chat records: the exact tokens of the transcript and the exact mask (the
/// answers and the end of each answer trained on, the start of each example marked), for JSONL, .jsonl.gz and Parquet,
/// and a record that does not fit named by its file and line or row.</summary>
public sealed class FineTuningPrepareTests : IDisposable
{
    private static readonly Gpt2Tokenizer Gpt2 = new();
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly object[] PromptCompletions =
    [
        new { prompt = "What is 2 plus 3?", completion = "5." },
        new { prompt = "Name a colour.", completion = " Blue, like the sea." },
        new { prompt = "Say nothing.", completion = "" },
    ];

    private static readonly object[] Conversations =
    [
        new { messages = new[] { M("system", "Be brief."), M("user", "Hi!"), M("assistant", "Hello."), M("user", "Bye?"), M("assistant", "Bye!") } },
        new { messages = new[] { M("user", "2+2?"), M("assistant", "4") } },
    ];

    private static object M(string role, string content) => new { role, content };

    /// <summary>The transcript as README documents it, built here piece by piece: &lt;|endoftext|&gt;, then per message
    /// "Role:" and " content" and "\n\n" (&lt;|endoftext|&gt; after the last one); the assistant's content and its end
    /// are trained on.</summary>
    private static (int[] Tokens, byte[] Mask) Transcript(params (string Role, string Content)[] messages)
    {
        var tokens = new List<int> { Gpt2Tokenizer.EndOfText };
        var mask = new List<byte> { TokenMaskFormat.StartsExample };
        void Add(string text, bool trained)
        {
            var ids = Gpt2.Encode(text);
            tokens.AddRange(ids);
            mask.AddRange(ids.Select(_ => trained ? TokenMaskFormat.Trained : (byte)0));
        }

        for (int i = 0; i < messages.Length; i++)
        {
            var (role, content) = messages[i];
            bool assistant = role == "assistant";
            Add(char.ToUpperInvariant(role[0]) + role[1..] + ":", false);
            Add(" " + content, assistant);
            if (i == messages.Length - 1)
            {
                tokens.Add(Gpt2Tokenizer.EndOfText);
                mask.Add(assistant ? TokenMaskFormat.Trained : (byte)0);
            }
            else
            {
                Add("\n\n", assistant);
            }
        }

        return ([.. tokens], [.. mask]);
    }

    private static (int[] Tokens, byte[] Mask) Concat(params (int[] Tokens, byte[] Mask)[] parts) =>
        ([.. parts.SelectMany(p => p.Tokens)], [.. parts.SelectMany(p => p.Mask)]);

    private string Jsonl(string name, IEnumerable<object> records, params string[] extraLines)
    {
        string path = _temp.File(name);
        var lines = records.Select(r => JsonSerializer.Serialize(r)).Concat(extraLines);
        using var file = File.Create(path);
        using var gzip = name.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionLevel.Fastest) : null;
        using var writer = new StreamWriter(gzip ?? (Stream)file);
        foreach (var line in lines)
        {
            writer.WriteLine(line);
        }

        return path;
    }

    private static readonly PrepareOptions NoValidation = new() { ValidationFraction = 0 };

    [Fact]
    public void Prompt_completion_trains_on_the_completion_and_its_end_only()
    {
        var result = DataPreparer.Prepare([Jsonl("pc.jsonl", PromptCompletions)], _temp.File("out"), NoValidation);

        var expected = Concat(
            Transcript(("user", "What is 2 plus 3?"), ("assistant", "5.")),
            Transcript(("user", "Name a colour."), ("assistant", " Blue, like the sea.")),
            Transcript(("user", "Say nothing."), ("assistant", "")));
        var (tokens, mask) = FineTuningExamples.Read(result.TrainShards);
        Assert.Equal(expected.Tokens, tokens);
        Assert.Equal(expected.Mask, mask);
        Assert.Equal(DataFormat.PromptCompletion, result.Format);
        Assert.Equal(3, result.Examples);
        Assert.Equal(expected.Mask.Count(m => (m & 1) != 0), result.TrainedTokens);
        var meta = PreparedDataMeta.Read(result.OutputDirectory);
        Assert.Equal(("prompt-completion", "transcript", 3L, 0L, 0L), (meta.Format, meta.ChatTemplate, meta.TrainExamples, meta.ValExamples, meta.LongExamples));
    }

    [Fact]
    public void Chat_trains_on_every_assistant_turn_and_the_end_of_each()
    {
        var result = DataPreparer.Prepare([Jsonl("chat.jsonl", Conversations)], _temp.File("out"), NoValidation);

        var expected = Concat(
            Transcript(("system", "Be brief."), ("user", "Hi!"), ("assistant", "Hello."), ("user", "Bye?"), ("assistant", "Bye!")),
            Transcript(("user", "2+2?"), ("assistant", "4")));
        var (tokens, mask) = FineTuningExamples.Read(result.TrainShards);
        Assert.Equal(expected.Tokens, tokens);
        Assert.Equal(expected.Mask, mask);
        Assert.Equal(DataFormat.Chat, result.Format);
        Assert.Equal("System: Be brief.\n\nUser: Hi!\n\nAssistant: Hello.\n\nUser: Bye?\n\nAssistant: Bye!<|endoftext|>", Gpt2.Decode(tokens.AsSpan(1, Array.IndexOf(tokens, Gpt2Tokenizer.EndOfText, 1))));
    }

    [Fact]
    public void With_the_char_tokenizer_the_transcript_is_exactly_the_documented_text()
    {
        var result = DataPreparer.Prepare([Jsonl("pc.jsonl", [new { prompt = "hi", completion = "yo" }])], _temp.File("out"),
            NoValidation with { Tokenizer = TokenizerKind.Character });

        // No end-of-text token: the example ends with the separator, which is trained on as the end of the answer.
        const string text = "User: hi\n\nAssistant: yo\n\n";
        var tokenizer = TokenizerFactory.LoadForDataDir(result.OutputDirectory);
        var (tokens, mask) = FineTuningExamples.Read(result.TrainShards);
        Assert.Equal(text, tokenizer.Decode(tokens));
        Assert.Equal(text.Select((_, i) => (byte)((i == 0 ? 2 : 0) | (i >= text.Length - " yo\n\n".Length ? 1 : 0))), mask);
    }

    [Theory]
    [InlineData("chat.jsonl", DataFormat.Chat)]
    [InlineData("chat.jsonl.gz", DataFormat.Chat)]
    [InlineData("pc.jsonl", DataFormat.PromptCompletion)]
    [InlineData("pc.jsonl.gz", DataFormat.PromptCompletion)]
    [InlineData("text.jsonl", DataFormat.Text)]
    public void Auto_decides_from_the_first_record(string name, DataFormat expected)
    {
        object[] records = name.StartsWith("chat", StringComparison.Ordinal) ? Conversations
            : name.StartsWith("pc", StringComparison.Ordinal) ? PromptCompletions
            : [new { text = "A document.", prompt = "not with a completion" }];

        var result = DataPreparer.Prepare([Jsonl(name, records)], _temp.File("out"), NoValidation);

        Assert.Equal(expected, result.Format);
        Assert.Equal(expected != DataFormat.Text, File.Exists(TokenMaskFormat.PathFor(result.TrainShards[0])));
    }

    [Fact]
    public void Text_keeps_todays_output_with_no_masks_and_no_template()
    {
        var result = DataPreparer.Prepare([Jsonl("docs.jsonl", [new { text = "One." }, new { text = "Two." }])], _temp.File("out"), NoValidation);

        Assert.Equal(FineWebSample.Gpt2Tokens(["One.", "Two."]), FineWebSample.ReadTokens(result.TrainShards));
        Assert.Empty(Directory.GetFiles(result.OutputDirectory, "*.mask"));
        string meta = File.ReadAllText(Path.Combine(result.OutputDirectory, "meta.json"));
        Assert.DoesNotContain("format", meta);
        Assert.Null(TrainingData.FromDirectory(result.OutputDirectory).ChatTemplate);
    }

    [Fact]
    public async Task Parquet_prompt_completion_and_chat_prepare_exactly_like_jsonl()
    {
        string pcParquet = _temp.File("pc.parquet"), chatParquet = _temp.File("chat.parquet");
        await ParquetSerializer.SerializeAsync(PromptCompletionRows(), pcParquet);
        await ParquetSerializer.SerializeAsync(ChatRows(), chatParquet);

        foreach (var (parquet, records) in new[] { (pcParquet, PromptCompletions), (chatParquet, Conversations) })
        {
            var fromParquet = DataPreparer.Prepare([parquet], _temp.File(Path.GetFileName(parquet) + ".out"), new PrepareOptions { ValidationFraction = 0.5 });
            var fromJsonl = DataPreparer.Prepare([Jsonl(Path.GetFileName(parquet) + ".jsonl", records)], _temp.File(Path.GetFileName(parquet) + ".jsonl.out"), new PrepareOptions { ValidationFraction = 0.5 });

            Assert.Equal(fromJsonl.Meta, fromParquet.Meta);
            Assert.NotEqual(DataFormat.Text, fromParquet.Format);
            foreach (var (a, b) in fromJsonl.TrainShards.Concat(fromJsonl.ValidationShards).Zip(fromParquet.TrainShards.Concat(fromParquet.ValidationShards)))
            {
                Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
                Assert.Equal(File.ReadAllBytes(TokenMaskFormat.PathFor(a)), File.ReadAllBytes(TokenMaskFormat.PathFor(b)));
            }
        }
    }

    public static TheoryData<string, DataFormat, string> BadRecords => new()
    {
        { """{"prompt": "a"}""", DataFormat.PromptCompletion, ":3: no \"completion\" field" },
        { """{"prompt": "a", "completion": 5}""", DataFormat.PromptCompletion, ":3: \"completion\" is a number, not a string" },
        { """{"prompt": ["a"], "completion": "b"}""", DataFormat.PromptCompletion, ":3: \"prompt\" is an array, not a string" },
        { """["a", "b"]""", DataFormat.PromptCompletion, ":3: expected a JSON object with string \"prompt\" and \"completion\" fields (Format prompt-completion)" },
        { "{\"prompt\": ", DataFormat.PromptCompletion, ":3: not valid JSON" },
        { """{"messages": "hi"}""", DataFormat.Chat, ":3: \"messages\" is a string, not an array" },
        { """{"messages": []}""", DataFormat.Chat, ":3: \"messages\" is empty" },
        { """{"messages": [{"role": "user", "content": "a"}, 7]}""", DataFormat.Chat, ":3: message 1 is a number, not an object" },
        { """{"messages": [{"role": "user"}]}""", DataFormat.Chat, ":3: message 0 (user): \"content\" is missing or null" },
        { """{"messages": [{"content": "a"}]}""", DataFormat.Chat, ":3: message 0: \"role\" is missing or null" },
        { """{"messages": [{"role": "User: x", "content": "a"}]}""", DataFormat.Chat, ":3: message 0: \"role\" is 'User: x'" },
        { """{"messages": [{"role": "user", "content": [{"type": "text"}]}]}""", DataFormat.Chat, ":3: message 0: \"content\" is an array, not a string" },
        { """{"messages": [{"role": "user", "content": "a"}]}""", DataFormat.Chat, ":3: no assistant message, so nothing to train on" },
        { """{"text": "a"}""", DataFormat.Chat, ":3: no \"messages\" field" },
    };

    [Theory]
    [MemberData(nameof(BadRecords))]
    public void A_record_that_does_not_fit_is_named_by_file_and_line(string bad, DataFormat format, string expected)
    {
        // Line 1 decides the format, line 2 is blank, line 3 is bad.
        object first = format == DataFormat.Chat ? Conversations[1] : PromptCompletions[0];
        string path = Jsonl("bad.jsonl", [first], "", bad);

        var e = Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([path], _temp.File("out"), NoValidation));

        Assert.StartsWith(path + expected, e.Message);
        Assert.False(File.Exists(_temp.File("out/meta.json")));
    }

    [Fact]
    public async Task A_parquet_row_that_does_not_fit_is_named_by_row_group_and_row()
    {
        string pc = _temp.File("pc.parquet"), chat = _temp.File("chat.parquet"), emptyChat = _temp.File("empty.parquet");
        var rows = PromptCompletionRows();
        rows[2].completion = null;
        await ParquetSerializer.SerializeAsync(rows, pc);
        var conversations = ChatRows();
        conversations[1].messages![1].content = null;
        await ParquetSerializer.SerializeAsync(conversations, chat);
        conversations = ChatRows();
        conversations[1].messages = [];
        await ParquetSerializer.SerializeAsync(conversations, emptyChat);

        Assert.StartsWith($"{pc}: row group 0, row 2: \"completion\" is null",
            Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([pc], _temp.File("a"), NoValidation)).Message);
        Assert.StartsWith($"{chat}: row group 0, row 1: message 1 (assistant): \"content\" is missing or null",
            Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([chat], _temp.File("b"), NoValidation)).Message);
        Assert.StartsWith($"{emptyChat}: row group 0, row 1: \"messages\" is null or empty",
            Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([emptyChat], _temp.File("c"), NoValidation)).Message);
        Assert.StartsWith($"{pc}: no column \"messages\"",
            Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([pc], _temp.File("d"), NoValidation with { Format = DataFormat.Chat })).Message);
    }

    [Fact]
    public void A_txt_in_a_fine_tuning_format_is_named()
    {
        File.WriteAllText(_temp.File("notes.txt"), "Some text.");

        var e = Assert.Throws<SharpGptException>(() => DataPreparer.Prepare([_temp.File("notes.txt")], _temp.File("out"), NoValidation with { Format = DataFormat.Chat }));

        Assert.StartsWith($"{_temp.File("notes.txt")}: a .txt file is one document, not chat records", e.Message);
    }

    [Fact]
    public void Examples_are_never_cut_across_shards_and_validation_takes_whole_examples()
    {
        var records = Enumerable.Range(0, 40).Select(i => new { prompt = $"Question {i}?", completion = $"Answer {i}, {new string('x', i % 7 * 9)}." }).ToArray();
        string path = Jsonl("many.jsonl", records);
        var whole = DataPreparer.Prepare([path], _temp.File("whole"), NoValidation);
        var sharded = DataPreparer.Prepare([path], _temp.File("sharded"), NoValidation with { ShardTokens = 60, ValidationTokens = 100 });

        Assert.True(sharded.TrainShards.Count > 5, "the test needs many shards");
        foreach (var shard in sharded.TrainShards.Concat(sharded.ValidationShards))
        {
            var (_, mask) = FineTuningExamples.Read([shard]);
            Assert.True((mask[0] & TokenMaskFormat.StartsExample) != 0, $"{shard} starts inside an example");
        }

        // Validation is the first examples until it holds 100 tokens; together the splits are the whole stream.
        var val = FineTuningExamples.Read(sharded.ValidationShards);
        var train = FineTuningExamples.Read(sharded.TrainShards);
        var all = FineTuningExamples.Read(whole.TrainShards);
        Assert.InRange(val.Tokens.Length, 100, 100 + 80);
        Assert.Equal(all.Tokens, val.Tokens.Concat(train.Tokens));
        Assert.Equal(all.Mask, val.Mask.Concat(train.Mask));
        Assert.Equal(40, sharded.Examples);
    }

    [Fact]
    public void Prepare_counts_the_examples_longer_than_gpt2s_context_and_keeps_them_whole()
    {
        // " 7" is one GPT-2 token: a completion of 1100 of them makes an example of about 1110 tokens.
        string longAnswer = string.Concat(Enumerable.Repeat(" 7", 1100));
        var result = DataPreparer.Prepare([Jsonl("long.jsonl", [new { prompt = "Count.", completion = longAnswer }, PromptCompletions[0]])], _temp.File("out"), NoValidation);

        var expected = Concat(Transcript(("user", "Count."), ("assistant", longAnswer)), Transcript(("user", "What is 2 plus 3?"), ("assistant", "5.")));
        Assert.Equal(expected.Tokens, FineTuningExamples.Read(result.TrainShards).Tokens);
        Assert.InRange(expected.Tokens.Length, 1025, 1200);
        Assert.Equal(1, result.LongExamples);
        Assert.Equal(1, PreparedDataMeta.Read(result.OutputDirectory).LongExamples);
    }

    [Fact]
    public void The_folder_records_its_template_and_a_missing_mask_is_named()
    {
        var result = DataPreparer.Prepare([Jsonl("chat.jsonl", Conversations)], _temp.File("out"), NoValidation);

        Assert.Same(ChatTemplate.Transcript, TrainingData.FromDirectory(result.OutputDirectory).ChatTemplate);
        File.Delete(TokenMaskFormat.PathFor(result.TrainShards[0]));
        var e = Assert.Throws<SharpGptException>(() => TrainingData.FromDirectory(result.OutputDirectory));
        Assert.Contains("meta.json says the data is for fine-tuning, but its shards have no loss masks", e.Message);
    }

    private sealed class PromptCompletionRow
    {
        public string? prompt { get; set; }

        public string? completion { get; set; }
    }

    private sealed class MessageRow
    {
        public string? role { get; set; }

        public string? content { get; set; }
    }

    private sealed class ChatRow
    {
        public string? prompt { get; set; }

        public List<MessageRow>? messages { get; set; }
    }

    private static List<PromptCompletionRow> PromptCompletionRows() =>
    [
        new() { prompt = "What is 2 plus 3?", completion = "5." },
        new() { prompt = "Name a colour.", completion = " Blue, like the sea." },
        new() { prompt = "Say nothing.", completion = "" },
    ];

    // Hugging Face's chat datasets keep a "prompt" column beside "messages" (ultrachat_200k); auto takes messages.
    private static List<ChatRow> ChatRows() =>
    [
        new() { prompt = "Hi!", messages = [Row("system", "Be brief."), Row("user", "Hi!"), Row("assistant", "Hello."), Row("user", "Bye?"), Row("assistant", "Bye!")] },
        new() { prompt = "2+2?", messages = [Row("user", "2+2?"), Row("assistant", "4")] },
    ];

    private static MessageRow Row(string role, string content) => new() { role = role, content = content };
}
