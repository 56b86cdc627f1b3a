using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt hellaswag</c>: HellaSwag accuracy of a model, scored as build-nanogpt does (<see cref="GptModel.EvaluateHellaSwag"/>).</summary>
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
                throw new SharpGptException("--limit", $"must be >= 0, got {r.GetValue(limit)}.");
            }

            string path = r.GetValue(checkpoint)!;
            var options = CommonOptions.ModelOptions(r.GetValue(device), Precision.Fp32, r.GetValue(threads)) with
            {
                Tokenizer = r.GetValue(tokenizerDir) is { } dir ? TrainingData.FromDirectory(dir.FullName).Tokenizer : null,
            };
            using var model = GptModel.Open(path, options);
            if (model.Device != ComputeDevice.Cpu || r.GetValue(device) == ComputeDevice.Auto)
            {
                Console.WriteLine(model.DeviceDescription);
            }

            if (model.Tokenizer is not { } tokenizer)
            {
                throw new SharpGptException(path, $"records no tokenizer and its vocabulary ({model.Config.VocabSize}) is not GPT-2's", "pass --tokenizer-dir.");
            }

            var c = model.Config;
            string dataPath = r.GetValue(data)!.FullName;
            // The header waits for the first scored example, so a bad file is the only line.
            string header = FormattableString.Invariant(
                $"hellaswag: {dataPath}; model {c.NumLayers}L {c.NumHeads}H {c.Channels}C, vocab {c.VocabSize}, block {c.MaxSeqLen}; tokenizer {tokenizer.Name}; {options.Threads} threads");
            long start = Stopwatch.GetTimestamp();
            var result = RunWithProgress(header, progress => model.EvaluateHellaSwag(dataPath, r.GetValue(limit), progress));
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

            Console.WriteLine(FormattableString.Invariant(
                $"hellaswag: acc {result.Accuracy:F4} ({result.Correct}/{result.Count}), acc_norm {result.AccuracyNorm:F4} ({result.CorrectNorm}/{result.Count}), count {result.Count}"));
            Console.Error.WriteLine(FormattableString.Invariant($"hellaswag: {seconds:F1} s, {result.Count / seconds:F2} examples/s"));
            if (r.GetValue(predictions) is { } file)
            {
                result.WritePredictions(file.FullName);
                Console.WriteLine($"predictions: {file.FullName}");
            }

            return 0;
        });
        return command;
    }

    private static HellaSwagResult RunWithProgress(string header, Func<IProgress<EvaluationProgress>, HellaSwagResult> evaluate)
    {
        bool announced = false;
        void Announce()
        {
            if (!announced)
            {
                announced = true;
                Console.Error.WriteLine(header);
            }
        }

        if (Console.IsErrorRedirected || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            // Plain lines: about every 10%, and at the end.
            long start = Stopwatch.GetTimestamp();
            return evaluate(new InlineProgress<EvaluationProgress>(p =>
            {
                Announce();
                long step = Math.Max(1, p.Total / 10);
                if (p.Done % step == 0 || p.Done == p.Total)
                {
                    double s = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    Console.Error.WriteLine(FormattableString.Invariant($"hellaswag: {p.Done}/{p.Total} ({s:F1} s)"));
                }
            }));
        }

        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("hellaswag");
                return evaluate(new InlineProgress<EvaluationProgress>(p =>
                {
                    Announce();
                    task.MaxValue = p.Total;
                    task.Value = p.Done;
                }));
            });
    }
}
