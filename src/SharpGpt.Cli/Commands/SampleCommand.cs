using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt sample</c>: generates text (or token ids) from a checkpoint, streamed to stdout
/// (<see cref="GptModel.GenerateStreamingAsync"/>).</summary>
internal static class SampleCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "Model: a SharpGPT checkpoint (.sgpt), an llm.c GPT-2 checkpoint (.bin), or a Hugging Face model.safetensors or folder", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "Prompt text" };
        var promptTokens = new Option<string?>("--prompt-tokens") { Description = "Prompt as comma-separated token ids, e.g. 1,2,3" };
        var tokenizerDir = new Option<DirectoryInfo?>("--tokenizer-dir") { Description = "Prepared data folder whose tokenizer to use (default: the checkpoint's own, or GPT-2 BPE for a 50257-token vocabulary)" };
        var tokens = new Option<int>("--tokens") { Description = "Tokens to generate", DefaultValueFactory = _ => 200 };
        var topK = new Option<int>("--top-k") { Description = "Sample from the k most likely tokens; 0 = whole vocabulary", DefaultValueFactory = _ => 50 };
        var topP = new Option<float>("--top-p") { Description = "Sample from the most likely tokens whose probabilities add up to this; 1 = all", DefaultValueFactory = _ => 1f };
        var temperature = new Option<float>("--temperature") { Description = "Softmax temperature; 0 = greedy", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { Description = "Random seed; the same seed gives the same sample", DefaultValueFactory = _ => 1337UL };
        var stop = new Option<string[]>("--stop") { Description = "Stop where this text appears (repeatable)", AllowMultipleArgumentsPerToken = false };
        var chat = new Option<bool>("--chat")
        {
            Description = "Render --prompt as a user message in the model's chat template (the one it was fine-tuned with, else the transcript, the base-model format) and sample the assistant's reply, as 'chat' and the API do",
        };
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var command = new Command("sample", "Generate text from a checkpoint (KV cache, temperature, top-k, top-p), streamed to stdout.")
        {
            checkpoint, prompt, promptTokens, tokenizerDir, tokens, topK, topP, temperature, seed, stop, chat, threads, device,
        };
        command.SetAction((r, cancellation) =>
        {
            var options = new GenerationOptions
            {
                MaxTokens = r.GetValue(tokens),
                Temperature = r.GetValue(temperature),
                TopK = r.GetValue(topK),
                TopP = r.GetValue(topP),
                Seed = r.GetValue(seed),
                StopSequences = r.GetValue(stop) ?? [],
                // A sample is a stretch of the model's text: the end-of-text token is printed like any other.
                StopAtEndOfText = false,
            };
            var modelOptions = CommonOptions.ModelOptions(r.GetValue(device), Precision.Fp32, r.GetValue(threads)) with
            {
                Tokenizer = r.GetValue(tokenizerDir) is { } dir ? TrainingData.FromDirectory(dir.FullName).Tokenizer : null,
            };
            return Run(r.GetValue(checkpoint)!.FullName, r.GetValue(prompt), r.GetValue(promptTokens), options, modelOptions, r.GetValue(chat), cancellation);
        });
        return command;
    }

    private static async Task<int> Run(string checkpoint, string? promptText, string? promptIds, GenerationOptions options, GptModelOptions modelOptions, bool chat,
        CancellationToken cancellation)
    {
        using var model = GptModel.Open(checkpoint, modelOptions);
        if (model.Tokenizer is { } tokenizer && tokenizer.VocabSize > model.Config.VocabSize)
        {
            throw new SharpGptException(checkpoint, $"the tokenizer has {tokenizer.VocabSize} tokens but the model only {model.Config.VocabSize}.");
        }

        int[]? ids = promptIds is null ? null : ParseIds(promptIds, promptText);
        if (chat)
        {
            if (ids is not null || model.Tokenizer is null)
            {
                throw new SharpGptException("--chat", ids is not null ? "renders the text of --prompt, not token ids" : "needs a tokenizer, and this checkpoint records none", ids is not null ? "give --prompt TEXT." : "pass --tokenizer-dir DATA.");
            }

            // The same tokens as chat and the chat client: the template's prompt, ending at its stop sequences.
            var template = model.ChatTemplate ?? ChatTemplate.Transcript;
            ids = [.. template.PromptTokens([new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, promptText ?? "")], model.Tokenizer)];
            options = options with { StopSequences = [.. template.StopSequences, .. options.StopSequences], StopAtEndOfText = true };
        }

        if (ids is null && model.Tokenizer is null)
        {
            throw new SharpGptException(promptText is null ? "--prompt-tokens" : "--prompt", "needs a tokenizer, and this checkpoint records none", "pass --tokenizer-dir DATA or --prompt-tokens 1,2,3.");
        }

        var config = model.Config;
        // The header waits for the first update, so an option the model refuses is the only line.
        bool announced = false;
        void Announce()
        {
            if (!announced)
            {
                announced = true;
                Console.Error.WriteLine(FormattableString.Invariant(
                    $"sample: {config.NumLayers}L {config.NumHeads}H {config.Channels}C, vocab {config.VocabSize}, block {config.MaxSeqLen}; top-k {options.TopK}, top-p {options.TopP}, temperature {options.Temperature}, seed {options.Seed}, {modelOptions.Threads} threads; {model.DeviceDescription}"));
            }
        }

        var stdout = Console.Out;
        long start = Stopwatch.GetTimestamp(), firstPiece = 0;
        GenerationResult? result = null;
        if (model.Tokenizer is null)
        {
            // No tokenizer: the ids themselves.
            result = model.GenerateFromTokens(ids!, options, cancellation);
            Announce();
            stdout.WriteLine(string.Join(' ', result.Tokens.Select(id => id.ToString(CultureInfo.InvariantCulture))));
        }
        else
        {
            int[] prompt = ids ?? model.EncodePrompt(promptText ?? "");
            await foreach (var update in model.GenerateUpdatesAsync(prompt, options, cancellation))
            {
                Announce();
                if (firstPiece == 0 && update.Text.Length > 0)
                {
                    firstPiece = Stopwatch.GetTimestamp();
                }

                stdout.Write(update.Text);
                stdout.Flush();
                result = update.Result ?? result;
            }

            stdout.WriteLine();
        }

        double total = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double first = firstPiece == 0 ? total : Stopwatch.GetElapsedTime(start, firstPiece).TotalSeconds;
        int produced = result!.OutputTokenCount;
        Console.Error.WriteLine(FormattableString.Invariant(
            $"sample: {produced} tokens in {total:F2} s; prompt + first text {first * 1000:F1} ms, then {(produced > 1 && total > first ? (produced - 1) / (total - first) : 0):F1} tokens/s; ended by {result.FinishReason}"));
        return 0;
    }

    private static int[] ParseIds(string ids, string? text)
    {
        if (text is not null)
        {
            throw new SharpGptException("--prompt, --prompt-tokens", "give one of them, not both.");
        }

        var parts = ids.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var prompt = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out prompt[i]))
            {
                throw new SharpGptException("--prompt-tokens", $"'{parts[i]}' is not a token id.");
            }
        }

        return prompt.Length > 0 ? prompt : throw new SharpGptException("--prompt-tokens", "the prompt is empty.");
    }
}
