using SharpGpt.Data;
using SharpGpt.Devices;
using SharpGpt.Formats;
using SharpGpt.Inference;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt;

/// <summary>
/// A GPT-2-class model on a device, with its tokenizer: open one from a file (<see cref="Open"/>) or make a new
/// one (<see cref="Create"/>); generate text (<see cref="Generate(string, GenerationOptions?, CancellationToken)"/>,
/// <see cref="GenerateStreamingAsync"/>), score text (<see cref="Score"/>, <see cref="EvaluateLoss"/>,
/// <see cref="EvaluateHellaSwag"/>), train or fine-tune it (<see cref="Train"/>), save it (<see cref="Save"/>,
/// <see cref="ExportHuggingFace"/>) and use it as an <c>IChatClient</c> (<see cref="AsChatClient"/>).
/// <para>A model is safe to share between threads: its operations take turns, each holding the model until it
/// ends (a streaming generation until its enumeration ends). Dispose it to free its memory and threads.</para>
/// </summary>
public sealed partial class GptModel : IDisposable
{
    private readonly ParallelRunner _runner;
    private readonly ComputeBackend _backend;
    private readonly GptNetwork _network;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private KvCacheDecoder? _decoder;
    private bool _disposed;

    private GptModel(ParallelRunner runner, ComputeBackend backend, GptNetwork network, GptTokenizer? tokenizer, ChatTemplate? chatTemplate, string source)
    {
        _runner = runner;
        _backend = backend;
        _network = network;
        Tokenizer = tokenizer;
        ChatTemplate = chatTemplate;
        Source = source;
    }

    /// <summary>The model's shape.</summary>
    public GptConfig Config => _network.Config;

    /// <summary>The number of weights, as GPT-2's "124M" counts them.</summary>
    public long ParameterCount => _network.Layout.UnpaddedTotal;

    /// <summary>The tokenizer: the one given in <see cref="GptModelOptions.Tokenizer"/>, else the one the file
    /// records, else GPT-2's for a GPT-2 vocabulary; null when none is known (generation then works on token ids only).</summary>
    public GptTokenizer? Tokenizer { get; private set; }

    /// <summary>The chat template the model was fine-tuned with, recorded in its checkpoint; null for a model
    /// without one (its chat uses <see cref="ChatTemplate.Transcript"/>, the documented base-model format).</summary>
    public ChatTemplate? ChatTemplate { get; private set; }

    /// <summary>What the model runs on: <see cref="ComputeDevice.Cpu"/>, <see cref="ComputeDevice.Cuda"/> or
    /// <see cref="ComputeDevice.CudaEmulated"/> (never <see cref="ComputeDevice.Auto"/>).</summary>
    public ComputeDevice Device => _backend.Kind switch
    {
        DeviceKind.Cuda => ComputeDevice.Cuda,
        DeviceKind.CudaEmulated => ComputeDevice.CudaEmulated,
        _ => ComputeDevice.Cpu,
    };

    /// <summary>The device in words, and for <see cref="ComputeDevice.Auto"/> why it was chosen.</summary>
    public string DeviceDescription => _backend.Describe();

    /// <summary>fp32, or bf16 mixed precision for training's matrix multiplies.</summary>
    public Precision Precision => _network.Precision;

    /// <summary>Where the model came from, in words: the file and its format, or "new".</summary>
    public string Source { get; }

    internal GptNetwork Network => _network;

    internal ComputeBackend Backend => _backend;

    internal ParallelRunner Runner => _runner;

    /// <summary>Opens a model file: a SharpGPT checkpoint (.sgpt), an llm.c checkpoint (.bin, fp32 or bf16), a
    /// Hugging Face GPT-2 .safetensors file (F32, F16 or BF16), or a folder holding model.safetensors and
    /// config.json. The file's format is read from its first bytes, else from its extension.</summary>
    /// <param name="path">The file or folder.</param>
    /// <param name="options">Device, precision, threads and tokenizer; the defaults when null.</param>
    /// <returns>The model.</returns>
    /// <exception cref="SharpGptException">The file is missing, is not a model file, or is corrupt (the message names it and the problem).</exception>
    /// <exception cref="ArgumentException">An option is out of range (the exception names it).</exception>
    public static GptModel Open(string path, GptModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new GptModelOptions();
        options.Validate();
        return Build(options, backend =>
        {
            var loaded = ModelFile.Open(Path.GetFullPath(path), backend.Kernels, options.HuggingFaceHeads);
            var tokenizer = options.Tokenizer ?? loaded.Tokenizer
                ?? (loaded.Network.Config.VocabSize >= Gpt2Tokenizer.Gpt2VocabSize ? Gpt2Tokenizer.Shared : null);
            var template = loaded.ChatTemplate is null ? null : ChatTemplate.FromName(loaded.ChatTemplate, path);
            return (loaded.Network, tokenizer, template, loaded.Description);
        });
    }

    /// <summary>Creates a model with GPT-2's initialisation: N(0, 0.02) weights, residual projections scaled by
    /// 1/sqrt(2 n_layer), zero biases, unit LayerNorm gains, seeded by <see cref="GptModelOptions.Seed"/>.</summary>
    /// <param name="config">The shape; <see cref="GptConfig.FromPreset"/> gives GPT-2's.</param>
    /// <param name="tokenizer">The tokenizer its text goes through (recorded in its checkpoints); its vocabulary
    /// must fit the model's. Null takes GPT-2's when the vocabulary is GPT-2's.</param>
    /// <param name="options">Device, precision, threads and seed; the defaults when null.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentException">The shape cannot form a model, or the tokenizer does not fit it.</exception>
    public static GptModel Create(GptConfig config, GptTokenizer? tokenizer = null, GptModelOptions? options = null) =>
        CreateModel(config, tokenizer, options, initialize: true);

    /// <param name="initialize">False leaves the weights zero (a dry run that times nothing need not draw them).</param>
    internal static GptModel CreateModel(GptConfig config, GptTokenizer? tokenizer, GptModelOptions? options, bool initialize)
    {
        ArgumentNullException.ThrowIfNull(config);
        options ??= new GptModelOptions();
        options.Validate();
        try
        {
            config.Validate(nameof(config));
        }
        catch (SharpGptException e)
        {
            throw new ArgumentException(e.Problem, nameof(config), e);
        }

        tokenizer ??= options.Tokenizer ?? (config.VocabSize >= Gpt2Tokenizer.Gpt2VocabSize ? Gpt2Tokenizer.Shared : null);
        if (tokenizer is not null && tokenizer.VocabSize > config.VocabSize)
        {
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabSize} tokens but the model's vocabulary only {config.VocabSize}.", nameof(tokenizer));
        }

        return Build(options, backend =>
        {
            var network = new GptNetwork(config, backend.Kernels);
            if (initialize)
            {
                network.InitializeWeights(options.Seed);
            }

            return (network, tokenizer, null, "new");
        });
    }

    private static GptModel Build(GptModelOptions options, Func<ComputeBackend, (GptNetwork, GptTokenizer?, ChatTemplate?, string)> load)
    {
        var runner = new ParallelRunner(options.ResolvedThreads);
        ComputeBackend? backend = null;
        try
        {
            backend = ComputeBackend.Create(DeviceOf(options.Device), runner);
            var (network, tokenizer, template, source) = load(backend);
            network.Precision = options.Precision;
            return new GptModel(runner, backend, network, tokenizer, template, source);
        }
        catch
        {
            backend?.Dispose();
            runner.Dispose();
            throw;
        }
    }

    internal static DeviceKind? DeviceOf(ComputeDevice device) => device switch
    {
        ComputeDevice.Cpu => DeviceKind.Cpu,
        ComputeDevice.Cuda => DeviceKind.Cuda,
        ComputeDevice.CudaEmulated => DeviceKind.CudaEmulated,
        _ => null,
    };

    /// <summary>Saves the weights, by the file's extension: .sgpt is a SharpGPT checkpoint (weights, tokenizer and
    /// chat template; open it again, or fine-tune from it), .bin an llm.c checkpoint (fp32 weights only). The file
    /// is written to a temporary name and renamed, so a failed write leaves no half-written file.</summary>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <exception cref="ArgumentException">The extension is neither .sgpt nor .bin.</exception>
    /// <exception cref="SharpGptException">The file cannot be written (a full or read-only disk).</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string extension = Path.GetExtension(full);
        using var turn = TakeTurn(CancellationToken.None);
        if (extension.Equals(TrainingCheckpoint.Extension, StringComparison.OrdinalIgnoreCase))
        {
            TrainingCheckpoint.SaveWeights(full, _network, Tokenizer, ChatTemplate?.Name);
        }
        else if (extension.Equals(".bin", StringComparison.OrdinalIgnoreCase))
        {
            LlmcCheckpoint.Save(_network, full);
        }
        else
        {
            throw new ArgumentException($"'{path}' ends in neither .sgpt (a SharpGPT checkpoint) nor .bin (an llm.c checkpoint); for Hugging Face use ExportHuggingFace.", nameof(path));
        }
    }

    /// <summary>Writes model.safetensors (F32) and config.json into a folder, each atomically, so that
    /// transformers' <c>GPT2LMHeadModel.from_pretrained(directory)</c> loads the model with the same logits.</summary>
    /// <param name="directory">The folder; created when missing.</param>
    /// <exception cref="SharpGptException">The path is a file, or the folder cannot be written.</exception>
    public void ExportHuggingFace(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string full = Path.GetFullPath(directory);
        if (File.Exists(full))
        {
            throw new SharpGptException(full, "a file, not a folder", "give a folder to export into.");
        }

        using var turn = TakeTurn(CancellationToken.None);
        HuggingFaceGpt2.Save(_network, full);
    }

    /// <summary>The model's tokens for a text, with the end-of-text token first when the tokenizer has one (as
    /// every document begins in training), so the first token of the text is predicted too.</summary>
    internal int[] EncodeDocument(string text, string parameter)
    {
        var tokenizer = RequireTokenizer(parameter);
        int[] tokens = Encode(tokenizer, text, parameter);
        return tokenizer.EndOfTextToken is int eot ? [eot, .. tokens] : tokens;
    }

    internal GptTokenizer RequireTokenizer(string parameter) => Tokenizer
        ?? throw new InvalidOperationException($"This model records no tokenizer, so '{parameter}' cannot be read as text; give one in GptModelOptions.Tokenizer, or pass token ids.");

    private static int[] Encode(GptTokenizer tokenizer, string text, string parameter)
    {
        try
        {
            return tokenizer.Encode(text);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(e.Message, parameter, e);
        }
    }

    /// <summary>Waits for this model's turn; the returned handle gives it back.</summary>
    internal Turn TakeTurn(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _turn.Wait(cancellationToken);
        return Taken();
    }

    internal async ValueTask<Turn> TakeTurnAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Taken();
    }

    /// <summary>Whether <see cref="Dispose"/> has freed the model.</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed);

    // A caller that waited while the model was disposed gets the turn after Dispose gives it back: it must not run.
    private Turn Taken()
    {
        if (_disposed)
        {
            _turn.Release();
            throw new ObjectDisposedException(nameof(GptModel));
        }

        return new Turn(_turn);
    }

    /// <summary>The decoder of generation, allocated once (its cache is a block of keys and values per layer).</summary>
    internal KvCacheDecoder Decoder => _decoder ??= new KvCacheDecoder(_network);

    /// <summary>Frees the model's memory (on the device) and its threads.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _turn.Wait();
        _disposed = true;
        _decoder?.Dispose();
        _network.Dispose();
        _backend.Dispose();
        _runner.Dispose();
        _turn.Release();
    }

    /// <summary>One turn on the model, given back when disposed.</summary>
    internal readonly struct Turn(SemaphoreSlim turn) : IDisposable
    {
        public void Dispose() => turn.Release();
    }
}
