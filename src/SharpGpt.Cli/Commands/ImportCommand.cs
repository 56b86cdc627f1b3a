using System.CommandLine;
using SharpGpt.Formats;
using SharpGpt.Kernels;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt import</c>: a Hugging Face GPT-2 (safetensors) to an llm.c checkpoint.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "A Hugging Face GPT-2: model.safetensors, or a folder holding it and config.json", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "llm.c checkpoint (.bin, fp32) to write", Required = true };
        var heads = new Option<int?>("--heads") { Description = "n_head, when there is no config.json (the tensor shapes do not tell it)" };
        var command = new Command("import", "Convert a Hugging Face GPT-2 checkpoint (safetensors; F32, F16 or BF16) into an llm.c checkpoint.") { from, output, heads };
        command.SetAction(r =>
        {
            using var runner = new ParallelRunner(1);
            var (model, info) = HuggingFaceGpt2.Import(r.GetValue(from)!, new CpuKernels(runner), r.GetValue(heads));
            using (model)
            {
                Console.WriteLine($"import: {info.Describe()}");
                if (info.IgnoredTensors.Count > 0)
                {
                    Console.WriteLine($"import: ignored {string.Join(", ", info.IgnoredTensors.Take(4))}{(info.IgnoredTensors.Count > 4 ? ", ..." : "")}");
                }

                string outPath = r.GetValue(output)!.FullName;
                LlmcCheckpoint.Save(model, outPath);
                Console.WriteLine($"import: wrote {outPath} ({model.Layout.UnpaddedTotal:N0} parameters)");
            }

            return 0;
        });
        return command;
    }
}
