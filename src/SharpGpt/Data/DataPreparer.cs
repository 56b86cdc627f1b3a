using System.Text.Json;

namespace SharpGpt.Data;

/// <summary>Turns raw text into the token shards that training reads: DIR/val_000000.bin, DIR/train_000000.bin, …,
/// DIR/tokenizer.json and DIR/meta.json (written last, so its presence means the directory is complete).
/// <para>Validation split. A .txt file (or a single text) is split nanoGPT's way: the first (1 - f) of its
/// characters are train, the last f are val (for Tiny Shakespeare with f = 0.1, char: 1,003,854 / 111,540 tokens).
/// A .jsonl file is split by whole documents, spread evenly: document k is val when floor(k·f) steps up, so
/// documents 0, 1/f, 2/f, … (0, 10, 20, … for f = 0.1) are val; the split streams and never cuts a document.</para>
/// <para>Documents. With gpt2 every document starts with &lt;|endoftext|&gt; (50256), as in llm.c, and each part
/// of a split .txt counts as a document. The char tokenizer has no such token; documents are simply concatenated
/// and its vocabulary is every character of the whole input.</para></summary>
public static class DataPreparer
{
    public static PrepareResult PrepareFile(string inputPath, string outDir, PrepareOptions? options = null)
    {
        options ??= new PrepareOptions();
        options.Validate();
        if (!File.Exists(inputPath))
        {
            throw new FileNotFoundException($"{inputPath}: input file not found.", inputPath);
        }

        if (new FileInfo(inputPath).Length == 0)
        {
            throw new InvalidDataException($"{inputPath}: input file is empty.");
        }

        return Path.GetExtension(inputPath).ToLowerInvariant() switch
        {
            ".txt" => PrepareText(File.ReadAllText(inputPath), outDir, options, inputPath),
            ".jsonl" => PrepareJsonl(inputPath, outDir, options),
            var other => throw new UserErrorException(inputPath, $"unsupported input type '{other}'; expected .txt (one document) or .jsonl (one {{\"text\": ...}} object per line)."),
        };
    }

    /// <summary>Prepares one document, split into train and val by characters.</summary>
    public static PrepareResult PrepareText(string text, string outDir, PrepareOptions? options = null, string sourceName = "text")
    {
        options ??= new PrepareOptions();
        options.Validate();
        if (string.IsNullOrEmpty(text))
        {
            throw new InvalidDataException($"{sourceName}: the text is empty.");
        }

        var cut = TrainValCut(text, options.ValFraction);
        if (cut == 0 || (options.ValFraction > 0 && cut == text.Length))
        {
            throw new InvalidDataException($"{sourceName}: {text.Length} characters is too little text to split off a validation fraction of {options.ValFraction}.");
        }

        var tokenizer = TokenizerFactory.Create(options.Tokenizer, text);
        var output = new PreparedOutput(outDir, options.ShardTokens);
        output.Val.Append(EncodeDocument(tokenizer, text[cut..]));
        output.Val.Finish();
        output.Train.Append(EncodeDocument(tokenizer, text[..cut]));
        return output.Complete(tokenizer);
    }

    /// <summary>Prepares the Tiny Shakespeare text compiled into the library.</summary>
    public static PrepareResult PrepareEmbeddedShakespeare(string outDir, PrepareOptions? options = null) =>
        PrepareText(EmbeddedData.TinyShakespeare(), outDir, options, "tinyshakespeare (embedded)");

    /// <summary>Whether document <paramref name="index"/> of a .jsonl goes to val: evenly spread, first one included.</summary>
    public static bool IsValidationDocument(long index, double valFraction) =>
        valFraction > 0 && (index == 0 || Math.Floor(index * valFraction) > Math.Floor((index - 1) * valFraction));

    private static PrepareResult PrepareJsonl(string inputPath, string outDir, PrepareOptions options)
    {
        // The char vocabulary must be known before the first token is written: one extra streaming pass.
        var tokenizer = options.Tokenizer == CharTokenizer.TypeName
            ? CharTokenizer.FromTexts(ReadJsonlDocuments(inputPath))
            : TokenizerFactory.Create(options.Tokenizer);

        var output = new PreparedOutput(outDir, options.ShardTokens);
        long index = 0;
        foreach (var document in ReadJsonlDocuments(inputPath))
        {
            var sink = IsValidationDocument(index++, options.ValFraction) ? output.Val : output.Train;
            sink.Append(EncodeDocument(tokenizer, document));
        }

        if (index == 0)
        {
            throw new InvalidDataException($"{inputPath}: no documents with non-empty \"text\".");
        }

        if (output.Train.TotalTokens == 0)
        {
            throw new InvalidDataException($"{inputPath}: {index} document(s) is too few to split off a validation fraction of {options.ValFraction}; add documents or use --val-fraction 0.");
        }

        return output.Complete(tokenizer);
    }

    private static int[] EncodeDocument(ITextTokenizer tokenizer, string document)
    {
        if (tokenizer is Gpt2Tokenizer gpt2)
        {
            var ids = new List<int>(document.Length / 3 + 16) { Gpt2Tokenizer.EndOfText };
            gpt2.EncodeInto(document, ids);
            return [.. ids];
        }

        return tokenizer.EndOfTextToken is { } eot ? [eot, .. tokenizer.Encode(document)] : tokenizer.Encode(document);
    }

    /// <summary>Index of the first val character: nanoGPT's int(n * 0.9) for f = 0.1, moved off a surrogate pair.</summary>
    private static int TrainValCut(string text, double valFraction)
    {
        var cut = (int)(text.Length * (1.0 - valFraction));
        if (cut > 0 && cut < text.Length && char.IsHighSurrogate(text[cut - 1]) && char.IsLowSurrogate(text[cut]))
        {
            cut++;
        }

        return cut;
    }

    private static IEnumerable<string> ReadJsonlDocuments(string path)
    {
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string? text;
            try
            {
                using var json = JsonDocument.Parse(line);
                if (json.RootElement.ValueKind != JsonValueKind.Object
                    || !json.RootElement.TryGetProperty("text", out var field)
                    || field.ValueKind != JsonValueKind.String)
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: expected an object with a string \"text\" field.");
                }

                text = field.GetString();
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not valid JSON: {e.Message}", e);
            }

            if (!string.IsNullOrEmpty(text))
            {
                yield return text;
            }
        }
    }

    /// <summary>The two shard streams of an output directory and the files that describe them.</summary>
    private sealed class PreparedOutput
    {
        private readonly string _outDir;

        public PreparedOutput(string outDir, int shardTokens)
        {
            _outDir = outDir;
            Directory.CreateDirectory(outDir);
            RemoveStaleOutput(outDir);
            Val = new ShardSink(outDir, "val", shardTokens);
            Train = new ShardSink(outDir, "train", shardTokens);
        }

        public ShardSink Val { get; }

        public ShardSink Train { get; }

        public PrepareResult Complete(ITextTokenizer tokenizer)
        {
            Val.Finish();
            Train.Finish();
            TokenizerFile.Write(Path.Combine(_outDir, TokenizerFile.FileName), TokenizerFile.Of(tokenizer));
            var meta = new PreparedDataMeta(tokenizer.Name, tokenizer.VocabSize, Train.TotalTokens, Val.TotalTokens, Train.Paths.Count, Val.Paths.Count);
            meta.Write(_outDir);
            return new PrepareResult(_outDir, meta, Val.Paths, Train.Paths);
        }

        // A previous, larger run may have left train_000007.bin behind; the loader would read it as part of this data.
        private static void RemoveStaleOutput(string outDir)
        {
            File.Delete(Path.Combine(outDir, PreparedDataMeta.FileName));
            File.Delete(Path.Combine(outDir, TokenizerFile.FileName));
            foreach (var split in new[] { "train", "val" })
            {
                foreach (var stale in Directory.EnumerateFiles(outDir, $"{split}_*.bin"))
                {
                    File.Delete(stale);
                }
            }
        }
    }
}
