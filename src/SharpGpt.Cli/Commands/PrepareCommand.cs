using System.CommandLine;
using System.Diagnostics;

namespace SharpGpt.Cli.Commands;

/// <summary>`sharpgpt prepare`: tokenizes .txt, .jsonl, .jsonl.gz and .parquet files into the shards that training reads.</summary>
internal static class PrepareCommand
{
    private const string CharTokenizerName = "char";

    public static Command Create()
    {
        var input = new Option<string[]>("--input")
        {
            Description = "What to prepare: files, folders (every .txt, .jsonl, .jsonl.gz and .parquet inside, subfolders included, in sorted path order) and globs (* and **), "
                + "read in the order given. A .txt file is one document; a .jsonl holds one {\"text\": ...} object per line; a .parquet one document per row.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var outDir = new Option<string>("--out")
        {
            Description = "Directory for val_*.bin, train_*.bin, tokenizer.json and meta.json.",
            Required = true,
        };
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "gpt2 (BPE, 50257 tokens) or char (one token per distinct character of the input).",
            DefaultValueFactory = _ => "gpt2",
        };
        tokenizer.AcceptOnlyFromAmong("gpt2", CharTokenizerName);
        var textColumn = new Option<string>("--text-column")
        {
            Description = "The JSONL field or Parquet column that holds the text.",
            DefaultValueFactory = _ => "text",
        };
        var format = new Option<string>("--format")
        {
            Description = "What the records hold: text (documents, every token trained on), prompt-completion ({\"prompt\", \"completion\"}: the completion is trained on), "
                + "chat ({\"messages\": [{\"role\", \"content\"}, ...]}: the assistant's turns are trained on), or auto (decided from the first record).",
            DefaultValueFactory = _ => "auto",
        };
        format.AcceptOnlyFromAmong("auto", "text", "prompt-completion", "chat");
        var valFraction = new Option<double>("--val-fraction")
        {
            Description = "Share held out for validation: the last part of a single .txt, otherwise every (1/f)-th document.",
            DefaultValueFactory = _ => 0.1,
        };
        var valTokens = new Option<long?>("--val-tokens")
        {
            Description = "Hold out the first N tokens of the input for validation instead of --val-fraction (build-nanogpt: the first 100M of FineWeb-Edu).",
        };
        var shardTokens = new Option<int>("--shard-tokens")
        {
            Description = "Most tokens per shard file.",
            DefaultValueFactory = _ => 100_000_000,
        };
        var threads = new Option<int>("--threads") { Description = "Threads that tokenize (default: one per core)." };

        var command = new Command("prepare", "Tokenize text into llm.c-format token shards for training.")
        {
            input, outDir, tokenizer, format, textColumn, valFraction, valTokens, shardTokens, threads,
        };
        command.SetAction(parseResult =>
        {
            if (parseResult.GetValue(valTokens) is not null && parseResult.GetResult(valFraction) is { Implicit: false })
            {
                throw new SharpGptException("--val-fraction and --val-tokens", "both choose the validation split", "give one of them");
            }

            var options = new PrepareOptions
            {
                Tokenizer = parseResult.GetValue(tokenizer) == CharTokenizerName ? TokenizerKind.Character : TokenizerKind.Gpt2,
                ValidationFraction = parseResult.GetValue(valFraction),
                ValidationTokens = parseResult.GetValue(valTokens),
                ShardTokens = parseResult.GetValue(shardTokens),
                TextColumn = parseResult.GetValue(textColumn)!,
                Format = parseResult.GetValue(format) switch
                {
                    "text" => DataFormat.Text,
                    "prompt-completion" => DataFormat.PromptCompletion,
                    "chat" => DataFormat.Chat,
                    _ => DataFormat.Auto,
                },
                Threads = parseResult.GetValue(threads),
            };
            var clock = Stopwatch.StartNew();
            var inputs = parseResult.GetValue(input)!;
            var result = PrepareProgressDisplay.Run(progress => DataPreparer.Prepare(inputs, parseResult.GetValue(outDir)!, options, progress));
            PrintSummary(result, clock.Elapsed);
            return 0;
        });
        return command;
    }

    private static void PrintSummary(PrepareResult result, TimeSpan elapsed)
    {
        long tokens = result.TrainTokens + result.ValidationTokens, inputBytes = result.InputBytes;
        double seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        Console.WriteLine($"tokenizer {result.TokenizerName}, vocab {result.VocabSize}");
        Console.WriteLine($"val:   {result.ValidationTokens,14:N0} tokens in {result.ValidationShards.Count} shard(s)");
        Console.WriteLine($"train: {result.TrainTokens,14:N0} tokens in {result.TrainShards.Count} shard(s)");
        if (result.Format != DataFormat.Text)
        {
            string format = result.Format == DataFormat.Chat ? "chat" : "prompt-completion";
            Console.WriteLine(FormattableString.Invariant(
                $"format {format}, chat template {ChatTemplate.Transcript.Name}: {result.Examples:N0} examples; {result.TrainedTokens:N0} of {result.TrainTokens + result.ValidationTokens:N0} tokens are trained on ({100.0 * result.TrainedTokens / Math.Max(1, result.TrainTokens + result.ValidationTokens):F1}%), the rest masked"));
            Console.WriteLine(result.LongExamples == 0 ? $"no example is longer than {DataPreparer.LongExampleTokens} tokens"
                : $"{result.LongExamples:N0} example(s) longer than {DataPreparer.LongExampleTokens} tokens (GPT-2's context): training truncates each to its row and counts them when it starts");
        }

        Console.WriteLine(FormattableString.Invariant(
            $"wrote {result.OutputDirectory} in {elapsed.TotalSeconds:F2} s: {tokens / seconds / 1e6:F2}M tokens/s, {inputBytes / seconds / 1e6:F1} MB/s of input ({ByteSize.Format(inputBytes)}); peak memory {ByteSize.Format(Process.GetCurrentProcess().PeakWorkingSet64)}"));
    }

}
