using System.IO.Compression;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

/// <summary>Test inputs shaped like FineWeb-Edu: Parquet files with its columns (written with Parquet.Net, several
/// row groups, a chosen codec) and the same documents as JSONL. The texts are runs of Tiny Shakespeare's
/// paragraphs, a few with non-ASCII text and a literal "&lt;|endoftext|&gt;". Pages are compressed at the codec's
/// fastest level (zstd's default level takes seconds per 10 MB); reading is the same at any level.</summary>
internal static class FineWebSample
{
    private static readonly DataField<string> Text = new("text", true);
    private static readonly DataField<string> Id = new("id");
    private static readonly DataField<string> Dump = new("dump");
    private static readonly DataField<string> Url = new("url");
    private static readonly DataField<double> Score = new("score");
    private static readonly DataField<long> IntScore = new("int_score");
    private static readonly DataField<string> Language = new("language");
    private static readonly DataField<double> LanguageScore = new("language_score");
    private static readonly DataField<long> TokenCount = new("token_count");

    private static readonly string[] Paragraphs = EmbeddedData.TinyShakespeare().Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

    public static List<string> Documents(int count, int seed = 1)
    {
        var rng = new Random(seed);
        var documents = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var n = rng.Next(1, 12);
            var start = rng.Next(Paragraphs.Length - n);
            var text = string.Join("\n\n", Paragraphs, start, n);
            documents.Add((i % 7) switch
            {
                3 => text + "\n\nÜber naïve café — 日本語 😀 <|endoftext|> the end.",
                5 => "  " + text + "\r\n\t",
                _ => text,
            });
        }

        return documents;
    }

    /// <summary>Writes <paramref name="texts"/> (null allowed) in row groups of <paramref name="rowsPerGroup"/>.</summary>
    public static void WriteParquet(string path, IReadOnlyList<string?> texts, int rowsPerGroup, CompressionMethod compression = CompressionMethod.Zstd) =>
        WriteParquet(path, texts.Chunk(rowsPerGroup), compression);

    /// <summary>Writes one row group per element of <paramref name="rowGroups"/>, each produced only when written.</summary>
    public static void WriteParquet(string path, IEnumerable<IReadOnlyList<string?>> rowGroups, CompressionMethod compression = CompressionMethod.Zstd)
    {
        var schema = new ParquetSchema(Text, Id, Dump, Url, Score, IntScore, Language, LanguageScore, TokenCount);
        using var file = File.Create(path);
        var writer = ParquetWriter.CreateAsync(schema, file, new ParquetOptions { CompressionMethod = compression, CompressionLevel = CompressionLevel.Fastest }).GetAwaiter().GetResult();
        try
        {
            var row = 0;
            foreach (var texts in rowGroups)
            {
                using var group = writer.CreateRowGroup();
                var rows = Enumerable.Range(row, texts.Count).ToArray();
                row += texts.Count;
                Write(group.WriteAsync(Text, texts));
                Write(group.WriteAsync(Id, [.. rows.Select(r => $"<urn:uuid:{r:D8}-0000-4000-8000-000000000000>")]));
                Write(group.WriteAsync(Dump, [.. rows.Select(_ => "CC-MAIN-2024-10")]));
                Write(group.WriteAsync(Url, [.. rows.Select(r => $"https://example.org/{r}")]));
                Write(group.WriteAsync<double>(Score, rows.Select(r => 2.5 + (r % 10 / 10.0)).ToArray()));
                Write(group.WriteAsync<long>(IntScore, rows.Select(r => 3L).ToArray()));
                Write(group.WriteAsync(Language, [.. rows.Select(_ => "en")]));
                Write(group.WriteAsync<double>(LanguageScore, rows.Select(_ => 0.97).ToArray()));
                Write(group.WriteAsync<long>(TokenCount, texts.Select(t => (long)(t?.Length ?? 0) / 4).ToArray()));
            }
        }
        finally
        {
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>One {"text": ...} object per line; gzip-compressed when the path ends in .gz.</summary>
    public static void WriteJsonl(string path, IEnumerable<string> texts)
    {
        using var file = File.Create(path);
        using var compressed = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionLevel.Fastest) : null;
        using var writer = new StreamWriter(compressed ?? (Stream)file);
        foreach (var text in texts)
        {
            writer.WriteLine(JsonSerializer.Serialize(new { text, id = "x" }));
        }
    }

    /// <summary>The tokens that preparing <paramref name="documents"/> must give, from the plain tokenizer.</summary>
    public static int[] Gpt2Tokens(IEnumerable<string> documents)
    {
        var tokenizer = new Gpt2Tokenizer();
        return [.. documents.SelectMany(d => (int[])[Gpt2Tokenizer.EndOfText, .. tokenizer.Encode(d)])];
    }

    public static int[] ReadTokens(IEnumerable<string> shards) => [.. shards.SelectMany(TokenShardReader.Read).Select(t => (int)t)];

    private static void Write(ValueTask task) => task.AsTask().GetAwaiter().GetResult();

    private static void Write(Task task) => task.GetAwaiter().GetResult();
}
