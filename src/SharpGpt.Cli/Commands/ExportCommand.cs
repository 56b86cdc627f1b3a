using System.CommandLine;
using SharpGpt.Formats;
using SharpGpt.Kernels;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt export</c>: any model file to a Hugging Face GPT-2 folder (model.safetensors + config.json).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Model: .sgpt, llm.c .bin, or a Hugging Face safetensors file or folder", Required = true };
        var to = new Option<DirectoryInfo>("--to") { Description = "Folder to write model.safetensors and config.json into", Required = true };
        var command = new Command("export", "Write a model as a Hugging Face GPT-2 folder that GPT2LMHeadModel.from_pretrained loads.") { checkpoint, to };
        command.SetAction(r =>
        {
            using var runner = new ParallelRunner(1);
            var (model, _) = ModelFile.Load(r.GetValue(checkpoint)!, new CpuKernels(runner));
            using (model)
            {
                string dir = r.GetValue(to)!.FullName;
                if (File.Exists(dir))
                {
                    throw new UserErrorException(dir, "a file, not a folder", "pass a folder to --to.");
                }

                HuggingFaceGpt2.Save(model, dir);
                var c = model.Config;
                Console.WriteLine($"export: wrote {Path.Combine(dir, HuggingFaceGpt2.WeightsFileName)} and {HuggingFaceGpt2Config.FileName} "
                    + $"({c.NumLayers} layers, {c.NumHeads} heads, {c.Channels} channels, vocab {c.VocabSize}, block {c.MaxSeqLen}; {model.Layout.UnpaddedTotal:N0} parameters, F32)");
            }

            return 0;
        });
        return command;
    }
}
