using System.CommandLine;

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
            using var model = GptModel.Open(r.GetValue(checkpoint)!, new GptModelOptions { Device = ComputeDevice.Cpu, Threads = 1 });
            string dir = r.GetValue(to)!.FullName;
            if (File.Exists(dir))
            {
                throw new SharpGptException(dir, "a file, not a folder", "pass a folder to --to.");
            }

            model.ExportHuggingFace(dir);
            var c = model.Config;
            Console.WriteLine($"export: wrote {Path.Combine(dir, "model.safetensors")} and config.json "
                + $"({c.NumLayers} layers, {c.NumHeads} heads, {c.Channels} channels, vocab {c.VocabSize}, block {c.MaxSeqLen}; {model.ParameterCount:N0} parameters, F32)");
            return 0;
        });
        return command;
    }
}
