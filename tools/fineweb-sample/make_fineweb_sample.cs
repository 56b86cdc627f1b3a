#:package Parquet.Net@6.1.0
#:property PublishAot=false

// Writes a Parquet file shaped like a FineWeb-Edu shard (its columns and types, zstd or snappy pages, row groups
// of 1,000 documents) from Tiny Shakespeare's paragraphs, for timing `sharpgpt prepare` where FineWeb-Edu itself
// cannot be downloaded. Documents are runs of 1 to 40 consecutive paragraphs (about 4 KB on average), drawn at
// random. Optionally writes the same documents as JSONL.
//
//   dotnet run tools/fineweb-sample/make_fineweb_sample.cs -- OUT.parquet [MEGABYTES=300] [zstd|snappy|gzip] [OUT.jsonl]
using System.IO.Compression;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

var output = args.Length > 0 ? args[0] : throw new ArgumentException("usage: make_fineweb_sample.cs OUT.parquet [MEGABYTES] [zstd|snappy|gzip] [OUT.jsonl]");
long targetBytes = (args.Length > 1 ? long.Parse(args[1]) : 300) * 1_000_000;
var compression = args.Length > 2 ? Enum.Parse<CompressionMethod>(args[2], ignoreCase: true) : CompressionMethod.Zstd;
var jsonl = args.Length > 3 ? new StreamWriter(args[3]) : null;
const int RowsPerGroup = 1000;

var shakespeare = Path.Combine(AppContext.GetData("EntryPointFileDirectoryPath") as string ?? ".", "../../data/tinyshakespeare.txt");
var paragraphs = File.ReadAllText(shakespeare).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
var text = new DataField<string>("text");
var id = new DataField<string>("id");
var dump = new DataField<string>("dump");
var url = new DataField<string>("url");
var score = new DataField<double>("score");
var intScore = new DataField<long>("int_score");
var language = new DataField<string>("language");
var languageScore = new DataField<double>("language_score");
var tokenCount = new DataField<long>("token_count");
var schema = new ParquetSchema(text, id, dump, url, score, intScore, language, languageScore, tokenCount);

var rng = new Random(1337);
long written = 0, rows = 0, groups = 0;
using (var file = File.Create(output))
{
    await using var writer = await ParquetWriter.CreateAsync(schema, file, new ParquetOptions { CompressionMethod = compression, CompressionLevel = CompressionLevel.Fastest });
    while (written < targetBytes)
    {
        var texts = new string[RowsPerGroup];
        for (var i = 0; i < texts.Length; i++)
        {
            var n = rng.Next(1, 41);
            var start = rng.Next(paragraphs.Length - n);
            texts[i] = string.Join("\n\n", paragraphs, start, n);
            written += System.Text.Encoding.UTF8.GetByteCount(texts[i]);
            jsonl?.WriteLine(JsonSerializer.Serialize(new { text = texts[i] }));
        }

        var row = Enumerable.Range((int)rows, texts.Length).ToArray();
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(text, texts);
        await group.WriteAsync(id, [.. row.Select(r => $"<urn:uuid:{r:D8}-0000-4000-8000-000000000000>")]);
        await group.WriteAsync(dump, [.. row.Select(_ => "CC-MAIN-2024-10")]);
        await group.WriteAsync(url, [.. row.Select(r => $"https://example.org/{r}")]);
        await group.WriteAsync<double>(score, row.Select(r => 2.5 + (r % 20 / 10.0)).ToArray());
        await group.WriteAsync<long>(intScore, row.Select(r => 3L + (r % 2)).ToArray());
        await group.WriteAsync(language, [.. row.Select(_ => "en")]);
        await group.WriteAsync<double>(languageScore, row.Select(_ => 0.97).ToArray());
        await group.WriteAsync<long>(tokenCount, texts.Select(t => (long)t.Length / 4).ToArray());
        rows += texts.Length;
        groups++;
    }
}

jsonl?.Dispose();
Console.WriteLine($"{output}: {rows:N0} documents in {groups} row groups, {written / 1e6:F1} MB of text, {new FileInfo(output).Length / 1e6:F1} MB on disk ({compression})");
