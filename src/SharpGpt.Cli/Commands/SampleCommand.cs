using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SharpGpt.Data;
using SharpGpt.Formats;
using SharpGpt.Inference;
using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt sample</c>: generates text (or token ids) from a checkpoint with a KV cache.</summary>
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
        var temperature = new Option<float>("--temperature") { Description = "Softmax temperature; 0 = greedy", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { Description = "Random seed; the same seed gives the same sample", DefaultValueFactory = _ => 1337UL };
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var command = new Command("sample", "Generate text from a checkpoint (KV cache, temperature, top-k), streamed to stdout.")
        {
            checkpoint, prompt, promptTokens, tokenizerDir, tokens, topK, temperature, seed, threads, device,
        };
        command.SetAction(r =>
        {
            if (r.GetValue(tokens) < 0)
            {
                throw new UserErrorException("--tokens", $"must be >= 0, got {r.GetValue(tokens)}.");
            }

            float t = r.GetValue(temperature);
            if (!(t >= 0) || float.IsInfinity(t))
            {
                throw new UserErrorException("--temperature", $"must be a finite number >= 0 (0 = greedy), got {t}.");
            }

            var options = new SamplingOptions(r.GetValue(topK), t, r.GetValue(seed));

            return Run(r.GetValue(checkpoint)!, r.GetValue(prompt), r.GetValue(promptTokens), r.GetValue(tokenizerDir),
                r.GetValue(tokens), options, CommonOptions.ResolveThreads(r.GetValue(threads)), r.GetValue(device)!);
        });
        return command;
    }

    private static int Run(FileInfo checkpointFile, string? promptText, string? promptIds, DirectoryInfo? tokenizerDir,
        int count, SamplingOptions options, int threads, string device)
    {
        using var runner = new ParallelRunner(threads);
        using var backend = CommonOptions.CreateBackend(device, runner, announce: false);
        var (model, tokenizer) = ModelFile.Load(checkpointFile.FullName, backend.Kernels);
        using var owned = model;
        if (tokenizerDir is not null)
        {
            tokenizer = TokenizerFactory.LoadForDataDir(tokenizerDir.FullName);
        }
        else if (tokenizer is null && model.Config.VocabSize == Gpt2Tokenizer.Gpt2VocabSize)
        {
            tokenizer = new Gpt2Tokenizer();
        }

        if (tokenizer is not null && tokenizer.VocabSize > model.Config.VocabSize)
        {
            throw new UserErrorException(tokenizerDir?.FullName ?? checkpointFile.FullName, $"the tokenizer has {tokenizer.VocabSize} tokens but the model only {model.Config.VocabSize}.");
        }

        var config = model.Config;
        int[] prompt = ResolvePrompt(promptText, promptIds, tokenizer, config.VocabSize);

        Console.Error.WriteLine(FormattableString.Invariant(
            $"sample: {config.NumLayers}L {config.NumHeads}H {config.Channels}C, vocab {config.VocabSize}, block {config.MaxSeqLen}; prompt {prompt.Length} tokens, top-k {options.TopK}, temperature {options.Temperature}, seed {options.Seed}, {threads} threads; {backend.Describe()}"));

        using var decoder = new KvCacheDecoder(model);
        var sampler = new Sampler(decoder, options);
        var stdout = Console.Out;
        long start = Stopwatch.GetTimestamp(), firstToken = 0;
        int produced = 0;
        var ids = new char[16];
        var text = tokenizer is null ? null : new StreamingDecoder(tokenizer, count);
        sampler.Generate(prompt, count, token =>
        {
            if (produced++ == 0)
            {
                firstToken = Stopwatch.GetTimestamp();
            }

            if (text is not null)
            {
                stdout.Write(text.Add(token));
            }
            else
            {
                token.TryFormat(ids, out int written, provider: CultureInfo.InvariantCulture);
                ids[written++] = produced < count ? ' ' : '\n';
                stdout.Write(ids, 0, written);
            }

            stdout.Flush();
        });
        if (text is not null)
        {
            stdout.WriteLine(text.Flush());
        }

        double total = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double firstSeconds = produced == 0 ? 0 : Stopwatch.GetElapsedTime(start, firstToken).TotalSeconds;
        double decodeSeconds = total - firstSeconds;
        Console.Error.WriteLine(FormattableString.Invariant(
            $"sample: {produced} tokens in {total:F2} s; prompt + first token {firstSeconds * 1000:F1} ms, then {(produced > 1 ? (produced - 1) / decodeSeconds : 0):F1} tokens/s, {decoder.Slides} context slides"));
        return 0;
    }

    private static int[] ResolvePrompt(string? text, string? ids, ITextTokenizer? codec, int vocab)
    {
        int[] prompt;
        string subject = ids is not null ? "--prompt-tokens" : "--prompt";
        if (text is not null && ids is not null)
        {
            throw new UserErrorException("--prompt, --prompt-tokens", "give one of them, not both.");
        }
        else if (ids is not null)
        {
            var parts = ids.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            prompt = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out prompt[i]))
                {
                    throw new UserErrorException(subject, $"'{parts[i]}' is not a token id.");
                }
            }
        }
        else if (text is not null)
        {
            if (codec is null)
            {
                throw new UserErrorException(subject, "needs a tokenizer, and this checkpoint records none", "pass --tokenizer-dir DATA or --prompt-tokens 1,2,3.");
            }

            try
            {
                prompt = codec.Encode(text);
            }
            catch (ArgumentException e)
            {
                throw new UserErrorException(subject, e.Message, innerException: e);
            }
        }
        else if (codec is not null)
        {
            prompt = [TextSampling.StartToken(codec)]; // an unconditional sample
        }
        else
        {
            throw new UserErrorException("--prompt-tokens", "no prompt, and this vocabulary has no known end-of-text token to start from", "pass --prompt-tokens.");
        }

        if (prompt.Length == 0)
        {
            throw new UserErrorException(subject, "the prompt is empty.");
        }

        for (int i = 0; i < prompt.Length; i++)
        {
            if ((uint)prompt[i] >= (uint)vocab)
            {
                throw new UserErrorException(subject, $"token id {prompt[i]} at position {i} is outside the model's vocabulary [0, {vocab}).");
            }
        }

        return prompt;
    }
}
