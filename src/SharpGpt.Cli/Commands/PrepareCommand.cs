using System.CommandLine;
using System.Diagnostics;
using SharpGpt.Data;

namespace SharpGpt.Cli.Commands;

/// <summary>`sharpgpt prepare`: tokenizes a .txt or .jsonl file into the shards that training reads.</summary>
internal static class PrepareCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input")
        {
            Description = "Text to prepare: a .txt file (one document) or a .jsonl file (one {\"text\": ...} object per line).",
            Required = true,
        };
        var outDir = new Option<string>("--out")
        {
            Description = "Directory for val_*.bin, train_*.bin, tokenizer.json and meta.json.",
            Required = true,
        };
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "gpt2 (BPE, 50257 tokens) or char (one token per distinct character of the input).",
            DefaultValueFactory = _ => Gpt2Tokenizer.TypeName,
        };
        tokenizer.AcceptOnlyFromAmong([.. TokenizerFactory.Names]);
        var valFraction = new Option<double>("--val-fraction")
        {
            Description = "Share held out for validation: the last part of a .txt, every (1/f)-th document of a .jsonl.",
            DefaultValueFactory = _ => 0.1,
        };
        var shardTokens = new Option<int>("--shard-tokens")
        {
            Description = "Most tokens per shard file.",
            DefaultValueFactory = _ => 100_000_000,
        };

        var command = new Command("prepare", "Tokenize text into llm.c-format token shards for training.");
        command.Options.Add(input);
        command.Options.Add(outDir);
        command.Options.Add(tokenizer);
        command.Options.Add(valFraction);
        command.Options.Add(shardTokens);
        command.SetAction(parseResult =>
        {
            var options = new PrepareOptions
            {
                Tokenizer = parseResult.GetValue(tokenizer)!,
                ValFraction = parseResult.GetValue(valFraction),
                ShardTokens = parseResult.GetValue(shardTokens),
            };
            var clock = Stopwatch.StartNew();
            var result = DataPreparer.PrepareFile(parseResult.GetValue(input)!, parseResult.GetValue(outDir)!, options);
            PrintSummary(result, clock.Elapsed);
            return 0;
        });
        return command;
    }

    private static void PrintSummary(PrepareResult result, TimeSpan elapsed)
    {
        var meta = result.Meta;
        Console.WriteLine($"tokenizer {meta.Tokenizer}, vocab {meta.VocabSize}");
        Console.WriteLine($"val:   {meta.ValTokens,12:N0} tokens in {meta.ValShards} shard(s)");
        Console.WriteLine($"train: {meta.TrainTokens,12:N0} tokens in {meta.TrainShards} shard(s)");
        Console.WriteLine($"wrote {result.OutDir} in {elapsed.TotalSeconds:F2} s");
    }
}
