using System.CommandLine;

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
            using var model = GptModel.Open(r.GetValue(from)!, new GptModelOptions { Device = ComputeDevice.Cpu, Threads = 1, HuggingFaceHeads = r.GetValue(heads) });
            Console.WriteLine($"import: {model.Source}");
            string outPath = r.GetValue(output)!.FullName;
            model.Save(Path.GetExtension(outPath).Equals(".bin", StringComparison.OrdinalIgnoreCase) ? outPath
                : throw new SharpGptException("--out", $"'{outPath}' is not a .bin file", "name an llm.c checkpoint, e.g. gpt2.bin."));
            Console.WriteLine($"import: wrote {outPath} ({model.ParameterCount:N0} parameters)");
            return 0;
        });
        return command;
    }
}
