using System.CommandLine;
using SharpGpt.Data;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Training;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt eval</c>: the validation loss of a model on a prepared data folder.</summary>
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
            using var runner = new ParallelRunner(CommonOptions.ResolveThreads(r.GetValue(threads)));
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!, runner);
            var (model, _) = ModelFile.Load(r.GetValue(checkpoint)!.FullName, backend.Kernels);
            using (model)
            {
                int t = r.GetValue(seq) > 0 ? r.GetValue(seq) : model.Config.MaxSeqLen;
                var loader = TokenDataLoader.ForSplit(r.GetValue(data)!.FullName, "val", r.GetValue(batch), t);
                loader.ValidateTokens(model.Config.VocabSize);
                var sw = System.Diagnostics.Stopwatch.StartNew();
                long batches = ValidationLoss.Batches(loader, r.GetValue(steps));
                var progress = new ProgressLines(Console.Error.WriteLine);
                var (sum, count, _) = ValidationLoss.Measure(model, loader, r.GetValue(steps),
                    done => progress.Report("eval: validation", "batches", done, batches, sw.Elapsed.TotalSeconds));
                Console.WriteLine(FormattableString.Invariant($"val loss {sum / count:F4} over {count:N0} tokens ({sw.Elapsed.TotalSeconds:F1} s)"));
            }

            return 0;
        });
        return command;
    }
}
