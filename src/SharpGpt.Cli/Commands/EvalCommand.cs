using System.CommandLine;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt eval</c>: the validation loss of a model on a prepared data folder (<see cref="GptModel.EvaluateLoss"/>).</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "Model: .sgpt, llm.c .bin, or a Hugging Face safetensors file or folder", Required = true };
        var data = new Option<DirectoryInfo>("--data") { Description = "Prepared data folder (its val shards)", Required = true };
        var steps = new Option<int>("--steps") { Description = "Batches to average over (0 = the whole validation split)" };
        var batch = new Option<int>("--batch") { Description = "Sequences per batch", DefaultValueFactory = _ => 8 };
        var seq = new Option<int>("--seq") { Description = "Tokens per sequence (default: the model's block size)" };
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var command = new Command("eval", "Print a model's validation loss on prepared data.") { checkpoint, data, steps, batch, seq, threads, device };
        command.SetAction(r =>
        {
            using var model = GptModel.Open(r.GetValue(checkpoint)!.FullName, CommonOptions.ModelOptions(r.GetValue(device), Precision.Fp32, r.GetValue(threads)));
            if (model.Device != ComputeDevice.Cpu || r.GetValue(device) == ComputeDevice.Auto)
            {
                Console.WriteLine(model.DeviceDescription);
            }

            var trainingData = TrainingData.FromDirectory(r.GetValue(data)!.FullName);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var lines = new ProgressLines(Console.Error.WriteLine);
            var progress = new InlineProgress<EvaluationProgress>(p => lines.Report("eval: validation", "batches", p.Done, p.Total, clock.Elapsed.TotalSeconds));
            var score = model.EvaluateLoss(trainingData, r.GetValue(steps), r.GetValue(batch), r.GetValue(seq) > 0 ? r.GetValue(seq) : null, progress);
            Console.WriteLine(FormattableString.Invariant($"val loss {score.Loss:F4} over {score.TokenCount:N0} tokens ({clock.Elapsed.TotalSeconds:F1} s)"));
            return 0;
        });
        return command;
    }
}
