using BenchmarkDotNet.Attributes;
using SharpGpt.Inference;

namespace SharpGpt.Benchmarks;

/// <summary>
/// Generation through the public API against the engine's own loop beneath it (the KV-cache decoder and the
/// sampler, text decoded token by token: what <c>sharpgpt sample</c> ran before the API existed), for the same
/// tokens. The API adds the model's turn, a thread for the tokens and a channel to the reader (streaming), stop
/// sequences and the end-of-text check; the benchmark says what that costs per token. Two sizes: the default
/// run's character model (about a third of a millisecond a token, where per-token overhead shows most) and a
/// 6-layer, 384-channel model with GPT-2's vocabulary.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 7)]
[MemoryDiagnoser]
public class GenerationBenchmarks
{
    private const int Tokens = 128;
    private GptModel _model = null!;
    private int[] _prompt = [];
    private GenerationOptions _options = null!;

    [Params("char-4L-128", "gpt2vocab-6L-384")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var options = new GptModelOptions { Device = ComputeDevice.Cpu, Threads = Environment.ProcessorCount };
        if (Model.StartsWith("char", StringComparison.Ordinal))
        {
            var tokenizer = GptTokenizer.CreateCharacterLevel(Data.EmbeddedData.TinyShakespeare());
            _model = GptModel.Create(new GptConfig(256, tokenizer.VocabSize, 4, 4, 128), tokenizer, options);
        }
        else
        {
            _model = GptModel.Create(new GptConfig(256, 50257, 6, 6, 384), GptTokenizer.Gpt2, options);
        }

        _prompt = _model.EncodePrompt("");
        // Every run generates exactly Tokens tokens: no end-of-text stop, top-k 50, a fixed seed.
        _options = new GenerationOptions { MaxTokens = Tokens, TopK = 50, Seed = 1337, StopAtEndOfText = false };
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark(Baseline = true, Description = "engine loop: decoder + sampler + text")]
    public int EngineLoop()
    {
        var decoder = _model.Decoder;
        var sampler = new Sampler(decoder, new SamplingOptions(50, 1f, 1337), _model.Tokenizer!.VocabSize);
        var text = new TokenTextStream(_model.Tokenizer);
        int chars = 0;
        sampler.Generate(_prompt, Tokens, token => chars += text.Add(token).Length);
        return chars;
    }

    [Benchmark(Description = "API: Generate")]
    public int ApiGenerate() => _model.GenerateFromTokens(_prompt, _options).Text.Length;

    [Benchmark(Description = "API: GenerateStreamingAsync")]
    public async Task<int> ApiStreaming()
    {
        int chars = 0;
        await foreach (var piece in _model.GenerateStreamingAsync("", _options))
        {
            chars += piece.Length;
        }

        return chars;
    }
}
