using System.CommandLine;
using System.Diagnostics;
using SharpGpt.Data;
using SharpGpt.Eval;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt hellaswag</c>: HellaSwag accuracy of a model, scored as build-nanogpt does.</summary>
internal static class HellaSwagCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Model: .sgpt, llm.c .bin, or a Hugging Face safetensors file or folder", Required = true };
        var data = new Option<FileInfo>("--data") { Description = "HellaSwag JSON lines (hellaswag_val.jsonl: ctx, endings, label)", Required = true };
        var limit = new Option<int>("--limit") { Description = "Score only the first N examples (0 = all)" };
        var predictions = new Option<FileInfo?>("--predictions") { Description = "Write each example's losses and predictions to this JSONL file" };
        var tokenizerDir = new Option<DirectoryInfo?>("--tokenizer-dir") { Description = "Prepared data folder whose tokenizer to use (default: the checkpoint's own, or GPT-2 BPE)" };
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var command = new Command("hellaswag", "HellaSwag accuracy (acc and acc_norm): the ending the model finds least surprising, four rows per forward.")
        {
            checkpoint, data, limit, predictions, tokenizerDir, threads, device,
        };
        command.SetAction(r =>
        {
            if (r.GetValue(limit) < 0)
            {
                throw new UserErrorException("--limit", $"must be >= 0, got {r.GetValue(limit)}.");
            }

            return Run(r.GetValue(checkpoint)!, r.GetValue(data)!.FullName, r.GetValue(limit), r.GetValue(predictions)?.FullName,
                r.GetValue(tokenizerDir)?.FullName, CommonOptions.ResolveThreads(r.GetValue(threads)), r.GetValue(device)!);
        });
        return command;
    }

    private static int Run(string checkpoint, string dataPath, int limit, string? predictionsPath, string? tokenizerDir, int threads, string device)
    {
        using var runner = new ParallelRunner(threads);
        using var backend = CommonOptions.CreateBackend(device, runner);
        var (model, tokenizer) = ModelFile.Load(checkpoint, backend.Kernels);
        using var owned = model;
        if (tokenizerDir is not null)
        {
            tokenizer = TokenizerFactory.LoadForDataDir(tokenizerDir);
        }
        else if (tokenizer is null && model.Config.VocabSize >= Gpt2Tokenizer.Gpt2VocabSize)
        {
            tokenizer = new Gpt2Tokenizer();
        }

        if (tokenizer is null)
        {
            throw new UserErrorException(checkpoint, $"records no tokenizer and its vocabulary ({model.Config.VocabSize}) is not GPT-2's", "pass --tokenizer-dir.");
        }

        var examples = HellaSwagExample.Read(dataPath, limit);
        var evaluator = new HellaSwagEvaluator(model, tokenizer, examples);
        var c = model.Config;
        Console.Error.WriteLine(FormattableString.Invariant(
            $"hellaswag: {examples.Count} examples from {dataPath}; model {c.NumLayers}L {c.NumHeads}H {c.Channels}C, vocab {c.VocabSize}, block {c.MaxSeqLen}; tokenizer {tokenizer.Name}; {threads} threads; row lengths {string.Join("/", evaluator.Lengths.Reverse())}"));

        long start = Stopwatch.GetTimestamp();
        var result = RunWithProgress(evaluator);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        Console.WriteLine(FormattableString.Invariant(
            $"hellaswag: acc {result.Accuracy:F4} ({result.Correct}/{result.Count}), acc_norm {result.AccuracyNorm:F4} ({result.CorrectNorm}/{result.Count}), count {result.Count}"));
        Console.Error.WriteLine(FormattableString.Invariant($"hellaswag: {seconds:F1} s, {result.Count / seconds:F2} examples/s"));
        if (predictionsPath is not null)
        {
            result.WritePredictions(predictionsPath);
            Console.WriteLine($"predictions: {predictionsPath}");
        }

        return 0;
    }

    private static HellaSwagResult RunWithProgress(HellaSwagEvaluator evaluator)
    {
        if (Console.IsErrorRedirected || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            // Plain lines: about every 10%, and at the end.
            long start = Stopwatch.GetTimestamp();
            int step = Math.Max(1, evaluator.Count / 10);
            return evaluator.Evaluate((done, total) =>
            {
                if (done % step == 0 || done == total)
                {
                    double s = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    Console.Error.WriteLine(FormattableString.Invariant($"hellaswag: {done}/{total} ({s:F1} s)"));
                }
            });
        }

        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("hellaswag", maxValue: evaluator.Count);
                return evaluator.Evaluate((done, _) => task.Value = done);
            });
    }
}
