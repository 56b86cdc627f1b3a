using System.Diagnostics;
using SharpGpt.Data;

namespace SharpGpt;

/// <summary>Turns raw text into the token shards that training reads (<see cref="TrainingData.FromDirectory"/>):
/// DIR/val_000000.bin, DIR/train_000000.bin, …, DIR/tokenizer.json and DIR/meta.json (written last, so its presence
/// means the directory is complete); <c>sharpgpt prepare</c> does the same.
/// <para>Input. Files, folders (every .txt, .jsonl, .jsonl.gz and .parquet inside, in sorted path order) and globs
/// (<c>*</c>, <c>**</c>); .parquet files need the SharpGpt.Parquet package. A .txt file is one document; a .jsonl or
/// .jsonl.gz file holds one {"text": ...} object per line; a .parquet file one document per row of its text column.
/// The documents of all files form one stream in input order. The input is cut into pieces (a megabyte of JSONL
/// lines, a Parquet row group, a million characters of a .txt cut where the cut changes no token) that threads on
/// every core decode and tokenize whole, and the pieces' tokens are written back in order
/// (<see cref="ParallelEncoding"/>), so memory stays bounded whatever the input size.</para>
/// <para>Validation split. A single .txt file is split nanoGPT's way: the first (1 - f) of its characters are train,
/// the last f are val (for Tiny Shakespeare with f = 0.1, char: 1,003,854 / 111,540 tokens); a first reading pass
/// counts the characters. Otherwise whole documents are split, spread evenly: document k is val when floor(k·f)
/// steps up, so documents 0, 1/f, 2/f, … (0, 10, 20, … for f = 0.1) are val. With
/// <see cref="PrepareOptions.ValidationTokens"/> = N instead, val is the first N tokens of the stream, cut where they end
/// (build-nanogpt's first shard of FineWeb-Edu).</para>
/// <para>Documents. With gpt2 every document starts with &lt;|endoftext|&gt; (50256), as in llm.c, and each part
/// of a split .txt counts as a document. The char tokenizer has no such token; documents are simply concatenated
/// and its vocabulary is every character of the whole input (one extra reading pass).</para></summary>
public static class DataPreparer
{
    /// <summary>Prepares one file: see <see cref="Prepare"/>.</summary>
    internal static PrepareResult PrepareFile(string inputPath, string outDir, PrepareOptions? options = null) =>
        Prepare([inputPath], outDir, options);

    /// <summary>Prepares the files, folders and globs of <paramref name="inputs"/> as one stream of documents, into
    /// <paramref name="outputDirectory"/> (created when missing; the shards of an earlier preparation there are
    /// replaced).</summary>
    /// <param name="inputs">Files, folders and globs, read in the order given.</param>
    /// <param name="outputDirectory">The folder to write.</param>
    /// <param name="options">Tokenizer, validation split, shard size and text column; the defaults when null.</param>
    /// <param name="progress">Hears after each batch of documents written, on the preparing thread; may be null.</param>
    /// <param name="cancellationToken">Stops between batches (it then throws <see cref="OperationCanceledException"/>,
    /// leaving no meta.json, so the folder does not pass for a prepared one).</param>
    /// <returns>What was written.</returns>
    /// <exception cref="SharpGptException">An input is missing, empty or not what its name says, or a record is
    /// malformed (the message names the file and the line or row group).</exception>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static PrepareResult Prepare(IReadOnlyList<string> inputs, string outputDirectory, PrepareOptions? options = null,
        IProgress<PrepareProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        string outDir = Path.GetFullPath(outputDirectory);
        options ??= new PrepareOptions();
        options.Validate();
        var files = InputFiles.Resolve(inputs);
        var format = InputPieces.ResolveFormat(files, options.Format);
        var splitsByCharacters = format == DataFormat.Text && files is [var single] && single.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)
            && options.ValidationTokens is null && options.ValidationFraction > 0;
        var firstValChar = splitsByCharacters ? FirstValCharOfFile(files[0], options.ValidationFraction) : (long?)null;
        return PrepareDocuments(files, outDir, options with { Format = format }, firstValChar, progress, cancellationToken);
    }

    /// <summary>Prepares one document, split into train and val by characters.</summary>
    internal static PrepareResult PrepareText(string text, string outDir, PrepareOptions? options = null, string sourceName = "text")
    {
        options ??= new PrepareOptions();
        options.Validate();
        if (string.IsNullOrEmpty(text))
        {
            throw new InvalidDataException($"{sourceName}: the text is empty.");
        }

        var cut = TextSplit.TrainValCut(text, options.ValidationFraction);

        if (cut == 0 || (options.ValidationFraction > 0 && cut == text.Length))
        {
            throw TooLittleText(sourceName, text.Length, options.ValidationFraction);
        }

        var tokenizer = TokenizerFactory.Create(options.TokenizerName, text);
        using var output = new PreparedOutput(outDir, options.ShardTokens);
        if (cut < text.Length)
        {
            output.Val.Append(EncodeDocument(tokenizer, text[cut..]));
        }

        output.Val.Finish();
        output.Train.Append(EncodeDocument(tokenizer, text[..cut]));
        return output.Complete(tokenizer);
    }

    /// <summary>Prepares the Tiny Shakespeare text compiled into the library.</summary>
    internal static PrepareResult PrepareEmbeddedShakespeare(string outDir, PrepareOptions? options = null) =>
        PrepareText(EmbeddedData.TinyShakespeare(), outDir, options, "tinyshakespeare (embedded)");

    /// <summary>Examples longer than this are counted as long: GPT-2's context, so training at its full length truncates them.</summary>
    internal const int LongExampleTokens = 1024;

    /// <summary>Whether document <paramref name="index"/> of a .jsonl goes to val: evenly spread, first one included.</summary>
    internal static bool IsValidationDocument(long index, double valFraction) =>
        valFraction > 0 && (index == 0 || Math.Floor(index * valFraction) > Math.Floor((index - 1) * valFraction));

    /// <summary>The first val character of a .txt file, found by counting its characters without holding them;
    /// throws as <see cref="PrepareText"/> does when the text is empty or too short to split.</summary>
    private static long FirstValCharOfFile(string path, double valFraction)
    {
        if (new FileInfo(path).Length == 0)
        {
            throw new InvalidDataException($"{path}: input file is empty.");
        }

        var (chars, endsWithSurrogatePair) = TextFileReader.Measure(path);
        if (chars == 0)
        {
            throw new InvalidDataException($"{path}: the text is empty.");
        }

        // A cut just before the text's last char moves onto the end when that char ends a surrogate pair.
        var cut = TextSplit.FirstValChar(chars, valFraction);
        if (cut == 0 || cut == chars || (cut == chars - 1 && endsWithSurrogatePair))
        {
            throw TooLittleText(path, chars, valFraction);
        }

        return cut;
    }

    private static InvalidDataException TooLittleText(string source, long chars, double valFraction) =>
        new($"{source}: {chars} characters is too little text to split off a validation fraction of {valFraction}.");

    /// <summary>Tokenizes the documents of <paramref name="files"/> on every core. With
    /// <paramref name="firstValChar"/> (a single .txt) the file is two documents, train up to that character and
    /// val from it; otherwise documents are routed by <see cref="Route"/>.</summary>
    private static PrepareResult PrepareDocuments(IReadOnlyList<string> files, string outDir, PrepareOptions options, long? firstValChar, IProgress<PrepareProgress>? progress,
        CancellationToken cancellationToken)
    {
        var format = options.Format;
        bool examples = format != DataFormat.Text;
        IEnumerable<InputPiece> Pieces() => InputPieces.Split(files, options.TextColumn, options.TextPieceChars, firstValChar, format);
        GptTokenizer tokenizer;
        Func<IDocumentEncoder> newEncoder;
        if (options.Tokenizer == TokenizerKind.Character)
        {
            // The char vocabulary must be known before the first token is written: one extra reading pass.
            var chars = CharTokenizer.FromTexts(ReadAll(Pieces()));
            (tokenizer, newEncoder) = (chars, () => new CharDocumentEncoder(chars));
        }
        else
        {
            (tokenizer, newEncoder) = (new Gpt2Tokenizer(), () => new Gpt2DocumentEncoder());
        }

        var clock = Stopwatch.StartNew();
        var totalBytes = InputPieces.TotalBytes(files);
        using var output = new PreparedOutput(outDir, options.ShardTokens, examples);
        var emptyFiles = new EmptyFileCheck(files, options.TextColumn, format);
        long documents = 0, longExamples = 0;
        foreach (var batch in ParallelEncoding.Encode(Pieces(), newEncoder, options.ResolvedThreads))
        {
            cancellationToken.ThrowIfCancellationRequested();
            emptyFiles.Saw(batch.Piece.Path, batch.DocumentLengths.Length);
            var tokens = batch.Tokens.Span;
            var mask = batch.Mask.AsSpan();
            for (var i = 0; i < batch.DocumentLengths.Length && batch.Mask is not null; i++)
            {
                var length = batch.DocumentLengths[i];
                longExamples += length > LongExampleTokens ? 1 : 0;
                RouteExample(tokens[..length], mask[..length], documents++, output, options);
                tokens = tokens[length..];
                mask = mask[length..];
            }

            for (var i = 0; i < batch.DocumentLengths.Length && batch.Mask is null; i++)
            {
                var length = batch.DocumentLengths[i];
                var index = i == 0 && batch.Piece.ContinuesDocument ? documents - 1 : documents++;
                if (firstValChar is null)
                {
                    Route(tokens[..length], index, output, options);
                }
                else
                {
                    (index == 0 ? output.Train : output.Val).Append(tokens[..length]);
                }

                tokens = tokens[length..];
            }

            progress?.Report(new PrepareProgress(batch.Piece.BytesRead, totalBytes, output.Val.TotalTokens + output.Train.TotalTokens, documents, clock.Elapsed));
        }

        emptyFiles.Finish();

        var input = files is [var one] ? one : $"{files[0]} and {files.Count - 1} more file(s)";
        if (options.ValidationTokens is long valTokens && output.Train.TotalTokens == 0)
        {
            throw new InvalidDataException($"{input}: {output.Val.TotalTokens:N0} tokens in all, none left for training after ValidationTokens {valTokens:N0}; use fewer ValidationTokens or more input.");
        }

        if (output.Train.TotalTokens == 0)
        {
            throw new InvalidDataException($"{input}: {documents} document(s) is too few to split off a validation fraction of {options.ValidationFraction}; add documents or use ValidationFraction 0.");
        }

        return output.Complete(tokenizer, format, longExamples) with { InputBytes = totalBytes };
    }

    /// <summary>Sends one whole example to val or to train: every (1/f)-th example, or with ValidationTokens the first
    /// examples until val holds that many tokens (an example is never cut, so the loader can keep it whole).</summary>
    private static void RouteExample(ReadOnlySpan<int> tokens, ReadOnlySpan<byte> mask, long index, PreparedOutput output, PrepareOptions options)
    {
        bool toVal = options.ValidationTokens is long valTokens ? output.Val.TotalTokens < valTokens : IsValidationDocument(index, options.ValidationFraction);
        (toVal ? output.Val : output.Train).AppendExample(tokens, mask);
    }

    /// <summary>Every document of the pieces, read on this thread (the char vocabulary's pass); for examples, every
    /// text the chat template writes.</summary>
    private static IEnumerable<string> ReadAll(IEnumerable<InputPiece> pieces)
    {
        using var readers = new PieceReaders();
        foreach (var piece in pieces)
        {
            using var read = piece.Read(readers);
            foreach (var text in read.Examples?.SelectMany(e => e.Texts(ChatTemplate.Transcript)) ?? [])
            {
                yield return text;
            }

            foreach (var document in read.Documents)
            {
                yield return document.ToString();
            }
        }
    }

    /// <summary>Sends one document's tokens to val, to train, or (with --val-tokens, at the boundary) part to each.</summary>
    private static void Route(ReadOnlySpan<int> document, long index, PreparedOutput output, PrepareOptions options)
    {
        if (options.ValidationTokens is not long valTokens)
        {
            (IsValidationDocument(index, options.ValidationFraction) ? output.Val : output.Train).Append(document);
            return;
        }

        var toVal = (int)Math.Clamp(valTokens - output.Val.TotalTokens, 0, document.Length);
        if (toVal > 0)
        {
            output.Val.Append(document[..toVal]);
        }

        output.Train.Append(document[toVal..]);
    }

    private static int[] EncodeDocument(GptTokenizer tokenizer, string document)
    {
        if (tokenizer is Gpt2Tokenizer gpt2)
        {
            var ids = new List<int>(document.Length / 3 + 16) { Gpt2Tokenizer.EndOfText };
            gpt2.EncodeInto(document, ids);
            return [.. ids];
        }

        return tokenizer.EndOfTextToken is { } eot ? [eot, .. tokenizer.Encode(document)] : tokenizer.Encode(document);
    }

    /// <summary>The two shard streams of an output directory and the files that describe them.</summary>
    private sealed class PreparedOutput : IDisposable
    {
        private readonly string _outDir;

        public PreparedOutput(string outDir, int shardTokens, bool masked = false)
        {
            _outDir = outDir;
            Directory.CreateDirectory(outDir);
            RemoveStaleOutput(outDir);
            Val = new ShardSink(outDir, "val", shardTokens, masked);
            Train = new ShardSink(outDir, "train", shardTokens, masked);
        }

        public ShardSink Val { get; }

        public ShardSink Train { get; }

        public PrepareResult Complete(GptTokenizer tokenizer, DataFormat format = DataFormat.Text, long longExamples = 0)
        {
            Val.Finish();
            Train.Finish();
            TokenizerFile.Write(Path.Combine(_outDir, TokenizerFile.FileName), TokenizerFile.Of(tokenizer));
            var meta = new PreparedDataMeta(tokenizer.Name, tokenizer.VocabSize, Train.TotalTokens, Val.TotalTokens, Train.Paths.Count, Val.Paths.Count);
            if (format != DataFormat.Text)
            {
                meta = meta with
                {
                    Format = FineTuningRecord.Name(format),
                    ChatTemplate = ChatTemplate.Transcript.Name,
                    TrainExamples = Train.Examples,
                    ValExamples = Val.Examples,
                    TrainTrainedTokens = Train.TrainedTokens,
                    ValTrainedTokens = Val.TrainedTokens,
                    LongExamples = longExamples,
                };
            }

            meta.Write(_outDir);
            return new PrepareResult(_outDir, meta, Val.Paths, Train.Paths);
        }

        public void Dispose()
        {
            Val.Dispose();
            Train.Dispose();
        }

        // A previous, larger run may have left train_000007.bin behind; the loader would read it as part of this data.
        private static void RemoveStaleOutput(string outDir)
        {
            File.Delete(Path.Combine(outDir, PreparedDataMeta.FileName));
            File.Delete(Path.Combine(outDir, TokenizerFile.FileName));
            foreach (var split in new[] { "train", "val" })
            {
                foreach (var stale in Directory.EnumerateFiles(outDir, $"{split}_*.bin").Concat(Directory.EnumerateFiles(outDir, $"{split}_*{TokenMaskFormat.Extension}")))
                {
                    File.Delete(stale);
                }
            }
        }
    }
}
