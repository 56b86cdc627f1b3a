using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.AI;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt chat</c>: a conversation with a model in the terminal (<see cref="ChatSession"/>), rendered with
/// the model's chat template, or for a model trained without one with the documented base-model format (the same
/// transcript). Ctrl-C stops the answer being generated, not the program.</summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "Model: a SharpGPT checkpoint (.sgpt), an llm.c GPT-2 checkpoint (.bin), or a Hugging Face model.safetensors or folder", Required = true };
        var tokenizerDir = new Option<DirectoryInfo?>("--tokenizer-dir") { Description = "Prepared data folder whose tokenizer to use (default: the checkpoint's own, or GPT-2 BPE for a 50257-token vocabulary)" };
        var system = new Option<string?>("--system") { Description = "A system message that starts the conversation (and survives /reset)" };
        var tokens = new Option<int>("--tokens") { Description = "Most tokens per answer", DefaultValueFactory = _ => 256 };
        var temperature = new Option<float>("--temperature") { Description = "Softmax temperature; 0 = greedy (default 0.8, as nanoGPT's sample.py)", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "Sample from the k most likely tokens; 0 = whole vocabulary", DefaultValueFactory = _ => 50 };
        var topP = new Option<float>("--top-p") { Description = "Sample from the most likely tokens whose probabilities add up to this; 1 = all", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong?>("--seed") { Description = "Random seed of every answer (default: a fresh one each time)" };
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var command = new Command("chat", "Chat with a model in the terminal: answers stream as they are generated; /reset clears the history, /exit quits, Ctrl-C stops an answer.")
        {
            checkpoint, tokenizerDir, system, tokens, temperature, topK, topP, seed, threads, device,
        };
        command.SetAction(r =>
        {
            var modelOptions = CommonOptions.ModelOptions(r.GetValue(device), Precision.Fp32, r.GetValue(threads)) with
            {
                Tokenizer = r.GetValue(tokenizerDir) is { } dir ? TrainingData.FromDirectory(dir.FullName).Tokenizer : null,
            };
            var options = new ChatOptions
            {
                MaxOutputTokens = r.GetValue(tokens),
                Temperature = r.GetValue(temperature),
                TopK = r.GetValue(topK),
                TopP = r.GetValue(topP),
                Seed = r.GetValue(seed) is ulong s ? unchecked((long)s) : null,
            };
            return Run(r.GetValue(checkpoint)!.FullName, r.GetValue(system), options, modelOptions);
        });
        return command;
    }

    private static int Run(string checkpoint, string? system, ChatOptions options, GptModelOptions modelOptions)
    {
        using var model = GptModel.Open(checkpoint, modelOptions);
        if (model.Tokenizer is null)
        {
            throw new SharpGptException(checkpoint, "chat needs a tokenizer, and this checkpoint records none", "pass --tokenizer-dir DATA.");
        }

        var client = model.AsChatClient();
        // The options' checks (ranges) run before the first line is read.
        client.Prepare([], options);
        var config = model.Config;
        Console.WriteLine(model.ChatTemplate is { } template
            ? $"chat: {config.NumLayers}L {config.NumHeads}H {config.Channels}C, context {config.MaxSeqLen} tokens; chat template '{template.Name}', which the model was fine-tuned with; {model.DeviceDescription}"
            : $"chat: {config.NumLayers}L {config.NumHeads}H {config.Channels}C, context {config.MaxSeqLen} tokens; no chat template in the checkpoint, so the base-model format: a '{ChatTemplate.Transcript.Name}' (User:/Assistant:) the model continues; {model.DeviceDescription}");
        Console.WriteLine("/reset clears the history, /exit (or Ctrl-D) quits, Ctrl-C stops an answer.");
        var session = new ChatSession(client, model, options, system, Console.In, Console.Out, echo: Console.IsInputRedirected);
        using var interrupt = Register(session);
        session.RunAsync().GetAwaiter().GetResult();
        return 0;
    }

    // Ctrl-C stops the answer in progress; at the prompt it only says how to quit. The process never ends on it.
    private static PosixSignalRegistration? Register(ChatSession session)
    {
        try
        {
            return PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
            {
                context.Cancel = true;
                if (!session.StopAnswer())
                {
                    Console.Out.Write(Environment.NewLine + "(Ctrl-C stops an answer; /exit or Ctrl-D quits)" + Environment.NewLine + "you> ");
                    Console.Out.Flush();
                }
            });
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }
}
