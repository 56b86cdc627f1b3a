using System.IO.Compression;
using System.Text.Json;

namespace SharpGpt.Data;

/// <summary>Whole lines of a .jsonl or .jsonl.gz file, as UTF-8 bytes: each non-blank line is a JSON object whose
/// <c>column</c> field holds a document's text. The bytes are parsed where the piece is encoded, so each text is
/// decoded once, on a worker thread. In a fine-tuning format each line is an example instead (<see cref="FineTuningRecord"/>).</summary>
internal sealed class JsonlChunk(string path, byte[] bytes, long firstLine, string column, long bytesRead, DataFormat format = DataFormat.Text)
    : InputPiece(path, bytesRead, 2L * bytes.Length)
{
    /// <summary>Bytes of lines per chunk (a longer line makes a chunk of its own).</summary>
    public const int ChunkBytes = 1 << 20;

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>Cuts a file into chunks of whole lines, reading it once from start to end; a .gz file is decompressed
    /// on the way. <paramref name="bytesBefore"/> is the size of the files before it.</summary>
    public static IEnumerable<InputPiece> Split(string path, string column, long bytesBefore, DataFormat format = DataFormat.Text)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        using var gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : null;
        var stream = gzip ?? (Stream)file;
        var buffer = new byte[ChunkBytes];
        var filled = 0;
        var line = 1L;
        var eof = false;
        while (!eof || filled > 0)
        {
            while (!eof && filled < buffer.Length)
            {
                var read = Read(stream, buffer.AsSpan(filled), path);
                filled += read;
                eof = read == 0;
            }

            var end = eof ? filled : buffer.AsSpan(0, filled).LastIndexOf((byte)'\n') + 1;
            if (end == 0)
            {
                Array.Resize(ref buffer, buffer.Length * 2); // one line longer than the buffer
                continue;
            }

            var chunk = buffer.AsSpan(0, end).ToArray();
            buffer.AsSpan(end, filled - end).CopyTo(buffer);
            filled -= end;
            yield return new JsonlChunk(path, chunk, line, column, bytesBefore + file.Position, format);
            line += chunk.AsSpan().Count((byte)'\n');
        }
    }

    public override PieceDocuments Read(PieceReaders readers)
    {
        if (format != DataFormat.Text)
        {
            return ReadExamples();
        }

        var documents = new List<ReadOnlyMemory<char>>();
        foreach (var (line, text) in new Lines(bytes, firstLine))
        {
            if (TextOf(text, column, Path, line) is { Length: > 0 } document)
            {
                documents.Add(document.AsMemory());
            }
        }

        return new PieceDocuments(documents);
    }

    private PieceDocuments ReadExamples()
    {
        var examples = new List<ChatExample>();
        foreach (var (line, text) in new Lines(bytes, firstLine))
        {
            if (FineTuningRecord.Parse(text, format, Path, line) is { } example)
            {
                examples.Add(example);
            }
        }

        return new PieceDocuments(examples);
    }

    /// <summary>The lines of a chunk with their numbers in the file, a UTF-8 byte order mark dropped from the file's
    /// first line.</summary>
    private ref struct Lines(ReadOnlySpan<byte> bytes, long firstLine)
    {
        private ReadOnlySpan<byte> _rest = bytes;
        private long _next = firstLine;

        public Line Current { get; private set; }

        public readonly Lines GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_rest.IsEmpty)
            {
                return false;
            }

            var newline = _rest.IndexOf((byte)'\n');
            var text = newline < 0 ? _rest : _rest[..newline];
            _rest = newline < 0 ? [] : _rest[(newline + 1)..];
            if (_next == 1 && text.StartsWith(Utf8Bom))
            {
                text = text[Utf8Bom.Length..];
            }

            Current = new Line(_next++, text);
            return true;
        }
    }

    /// <summary>A line of a chunk and its number in the file.</summary>
    private readonly ref struct Line(long number, ReadOnlySpan<byte> text)
    {
        private readonly ReadOnlySpan<byte> _text = text;

        public void Deconstruct(out long lineNumber, out ReadOnlySpan<byte> lineText)
        {
            lineNumber = number;
            lineText = _text;
        }
    }

    /// <summary>The first non-blank line of a .jsonl or .jsonl.gz file as JSON, or null when it has none or that line
    /// is not JSON (the read that follows says where): what <see cref="DataFormat.Auto"/> decides from.</summary>
    public static JsonElement? FirstRecord(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        using var gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : null;
        using var reader = new StreamReader(gzip ?? (Stream)file, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        try
        {
            while (reader.ReadLine() is { } line)
            {
                if (!string.IsNullOrWhiteSpace(line))
                {
                    using var document = JsonDocument.Parse(line);
                    return document.RootElement.Clone();
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            return null;
        }

        return null;
    }

    /// <summary>The text of one line; null for a blank line. Every line must be one JSON object with a string field
    /// named <paramref name="column"/>; anything else throws naming the file and the line.</summary>
    internal static string? TextOf(ReadOnlySpan<byte> line, string column, string path, long lineNumber)
    {
        if (line.Trim(" \t\r"u8).IsEmpty)
        {
            return null;
        }

        try
        {
            var json = new Utf8JsonReader(line);
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: expected a JSON object with a string \"{column}\" field.");
            }

            string? text = null;
            var found = false;
            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                var isColumn = json.ValueTextEquals(column);
                json.Read();
                if (!isColumn)
                {
                    json.Skip();
                    continue;
                }

                found = true;
                text = json.TokenType switch
                {
                    JsonTokenType.String => json.GetString(),
                    JsonTokenType.Null => throw new InvalidDataException($"{path}:{lineNumber}: \"{column}\" is null."),
                    var other => throw new InvalidDataException($"{path}:{lineNumber}: \"{column}\" is {other}, not a string."),
                };
            }

            // Reading past the object's end throws on anything but whitespace after it.
            json.Read();
            return found ? text : throw new InvalidDataException($"{path}:{lineNumber}: no \"{column}\" field (TextColumn names the field to read).");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{lineNumber}: not valid JSON: {e.Message}", e);
        }
    }

    private static int Read(Stream stream, Span<byte> into, string path)
    {
        try
        {
            return stream.Read(into);
        }
        catch (InvalidDataException e)
        {
            // GZipStream's own error does not say which file.
            throw new InvalidDataException($"{path}: not a valid gzip file: {e.Message}", e);
        }
    }
}
