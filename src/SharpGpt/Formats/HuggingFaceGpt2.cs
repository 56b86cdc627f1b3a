using System.Text.RegularExpressions;
using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Formats;

/// <summary>
/// Hugging Face GPT-2 checkpoints (<c>GPT2LMHeadModel</c> / <c>GPT2Model</c>): a model.safetensors
/// file, or a folder holding it and config.json. Keys may carry the <c>transformer.</c> prefix or
/// not; the Conv1D weights (c_attn, c_proj, c_fc) are stored [in, out] and are transposed to our
/// [out, in]; the attention buffers (<c>attn.bias</c>, <c>attn.masked_bias</c>) are skipped; F32, F16
/// and BF16 are read. Our vocabulary is padded to a multiple of 128: the padded rows are zero on
/// import and dropped on export.
/// </summary>
internal static unsafe partial class HuggingFaceGpt2
{
    public const string WeightsFileName = "model.safetensors";
    public const string Prefix = "transformer.";
    public const string LmHead = "lm_head.weight";

    private static readonly string[] ReadableDTypes = ["F32", "F16", "BF16"];

    /// <summary>Whether a path names a Hugging Face checkpoint: a folder, or a file ending in .safetensors.</summary>
    public static bool IsHuggingFacePath(string path) =>
        Directory.Exists(path) || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);

    /// <summary>The weights file and the config.json (if any) a path stands for: a folder's model.safetensors
    /// and config.json, or a .safetensors file and the config.json beside it.</summary>
    public static (string Weights, string? Config) Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        string weights, folder;
        if (Directory.Exists(full))
        {
            folder = full;
            weights = Path.Combine(full, WeightsFileName);
            if (!File.Exists(weights))
            {
                string detail = File.Exists(weights + ".index.json")
                    ? $"it holds {WeightsFileName}.index.json, a sharded checkpoint, which is not supported"
                    : $"it holds no {WeightsFileName}";
                throw new SharpGptException(full, $"not a Hugging Face model folder: {detail}.");
            }
        }
        else
        {
            weights = full;
            folder = Path.GetDirectoryName(full)!;
            if (!File.Exists(weights))
            {
                throw new SharpGptException(full, "model file not found.");
            }
        }

        string config = Path.Combine(folder, HuggingFaceGpt2Config.FileName);
        return (weights, File.Exists(config) ? config : null);
    }

    /// <summary>The model shape a checkpoint holds, without reading its weights.</summary>
    public static GptConfig ReadConfig(string path, int? heads = null)
    {
        var (weights, configPath) = Resolve(path);
        using var file = SafeTensorsFile.Open(weights);
        return Plan(file, configPath, heads).Config;
    }

    public static GptNetwork Load(string path, IGptKernels kernels, int? heads = null) => Import(path, kernels, heads).Model;

    /// <summary>Reads a checkpoint into a new model. Every tensor's presence, dtype and shape is checked
    /// against the config before the model is allocated.</summary>
    /// <param name="heads">n_head when there is no config.json (the tensor shapes do not tell it);
    /// with a config.json it must agree.</param>
    public static (GptNetwork Model, HuggingFaceImportInfo Info) Import(string path, IGptKernels kernels, int? heads = null)
    {
        var (weights, configPath) = Resolve(path);
        using var file = SafeTensorsFile.Open(weights);
        var plan = Plan(file, configPath, heads);
        var model = new GptNetwork(plan.Config, kernels);
        try
        {
            using var host = model.EditParameters(keepCurrent: false);
            var p = host.Pointer;
            foreach (var slot in Slots(plan.Config, plan.Prefix))
            {
                var tensor = file.Tensors[slot.Name];
                float* destination = p + slot.Offset;
                if (slot.Transpose)
                {
                    float[] stored = file.ReadFloats(tensor);
                    fixed (float* source = stored)
                    {
                        Transpose(source, destination, (int)slot.Shape[0], (int)slot.Shape[1]);
                    }
                }
                else
                {
                    file.ReadFloats(tensor, destination);
                }
            }

            if (file.Tensors.TryGetValue(LmHead, out var lmHead))
            {
                CheckTied(file, lmHead, new ParameterTensors(p, model.Layout).Wte, model.Config.Channels);
            }

            var dtypes = file.Tensors.Values.Where(t => !plan.Ignored.Contains(t.Name)).Select(t => t.DType).Distinct().Order(StringComparer.Ordinal).ToList();
            var info = new HuggingFaceImportInfo(plan.Config, weights, configPath, plan.Prefix, dtypes, plan.Ignored, lmHead is not null);
            return (model, info);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Writes model.safetensors (F32, <c>transformer.</c> keys, Conv1D layout, no lm_head since it
    /// is tied) and config.json into <paramref name="directory"/>, each atomically, so that
    /// <c>GPT2LMHeadModel.from_pretrained(directory)</c> loads it.</summary>
    public static void Save(GptNetwork model, string directory)
    {
        Directory.CreateDirectory(directory);
        var config = model.Config;
        using var weights = model.ReadParameters();
        float* p = weights.Pointer;
        var sources = new List<SafeTensorSource>();
        foreach (var slot in Slots(config, Prefix))
        {
            float* start = p + slot.Offset;
            long count = slot.Shape.Aggregate(1L, (n, d) => n * d);
            var shape = slot.Shape;
            bool transpose = slot.Transpose;
            sources.Add(new SafeTensorSource(slot.Name, shape, stream =>
            {
                if (!transpose)
                {
                    DeviceMemoryExtensions.WriteHostFloats(stream, start, count);
                    return;
                }

                // Ours is [out, in] = [shape[1], shape[0]]; the file wants [in, out].
                var stored = new float[count];
                fixed (float* s = stored)
                {
                    Transpose(start, s, (int)shape[1], (int)shape[0]);
                    DeviceMemoryExtensions.WriteHostFloats(stream, s, count);
                }
            }));
        }

        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        AtomicFile.Write(Path.Combine(directory, WeightsFileName), s => SafeTensorsWriter.Write(s, sources, metadata));
        HuggingFaceGpt2Config.Write(Path.Combine(directory, HuggingFaceGpt2Config.FileName), config);
    }

    /// <summary>One parameter tensor as Hugging Face stores it: its key, its stored shape, where it goes
    /// in our buffer and whether it is a Conv1D weight to transpose.</summary>
    private sealed record Slot(string Name, long[] Shape, long Offset, bool Transpose);

    private sealed record ImportPlan(GptConfig Config, string Prefix, IReadOnlyList<string> Ignored);

    private static IEnumerable<Slot> Slots(GptConfig config, string prefix)
    {
        var layout = new ParameterLayout(config);
        long c = config.Channels, l = config.NumLayers;
        long Offset(string tensor, int layer) => layout.Offsets[layout.IndexOf(tensor)] + (layer * (layout.Sizes[layout.IndexOf(tensor)] / l));

        yield return new Slot(prefix + "wte.weight", [config.VocabSize, c], layout.Offsets[0], false);
        yield return new Slot(prefix + "wpe.weight", [config.MaxSeqLen, c], layout.Offsets[1], false);
        for (int i = 0; i < l; i++)
        {
            string h = $"{prefix}h.{i}.";
            yield return new Slot(h + "ln_1.weight", [c], Offset("ln1w", i), false);
            yield return new Slot(h + "ln_1.bias", [c], Offset("ln1b", i), false);
            yield return new Slot(h + "attn.c_attn.weight", [c, 3 * c], Offset("qkvw", i), true);
            yield return new Slot(h + "attn.c_attn.bias", [3 * c], Offset("qkvb", i), false);
            yield return new Slot(h + "attn.c_proj.weight", [c, c], Offset("attprojw", i), true);
            yield return new Slot(h + "attn.c_proj.bias", [c], Offset("attprojb", i), false);
            yield return new Slot(h + "ln_2.weight", [c], Offset("ln2w", i), false);
            yield return new Slot(h + "ln_2.bias", [c], Offset("ln2b", i), false);
            yield return new Slot(h + "mlp.c_fc.weight", [c, 4 * c], Offset("fcw", i), true);
            yield return new Slot(h + "mlp.c_fc.bias", [4 * c], Offset("fcb", i), false);
            yield return new Slot(h + "mlp.c_proj.weight", [4 * c, c], Offset("fcprojw", i), true);
            yield return new Slot(h + "mlp.c_proj.bias", [c], Offset("fcprojb", i), false);
        }

        yield return new Slot(prefix + "ln_f.weight", [c], layout.Offsets[14], false);
        yield return new Slot(prefix + "ln_f.bias", [c], layout.Offsets[15], false);
    }

    /// <summary>Works out the shape and checks every tensor against it, touching no weights.</summary>
    private static ImportPlan Plan(SafeTensorsFile file, string? configPath, int? heads)
    {
        string path = file.Path;
        var tensors = file.Tensors;
        string prefix = tensors.ContainsKey(Prefix + "wte.weight") ? Prefix
            : tensors.ContainsKey("wte.weight") ? ""
            : throw new SharpGptException(path, "not a GPT-2 checkpoint: it has neither 'transformer.wte.weight' nor 'wte.weight'.");

        GptConfig config;
        if (configPath is not null)
        {
            config = HuggingFaceGpt2Config.Read(configPath);
            if (heads is int h && h != config.NumHeads)
            {
                throw new SharpGptException("HuggingFaceHeads", $"{h} disagrees with n_head {config.NumHeads} in {configPath}.");
            }
        }
        else
        {
            config = InferConfig(file, prefix, heads);
        }

        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var slot in Slots(config, prefix))
        {
            expected.Add(slot.Name);
            if (!tensors.TryGetValue(slot.Name, out var tensor))
            {
                throw new SharpGptException(path, $"tensor '{slot.Name}' is missing (expected for {Describe(config)}).");
            }

            RequireShape(path, tensor, slot.Shape, config);
        }

        if (tensors.TryGetValue(LmHead, out var lmHead))
        {
            RequireShape(path, lmHead, [config.VocabSize, config.Channels], config);
        }

        var ignored = new List<string>();
        var unexpected = new List<string>();
        foreach (string name in tensors.Keys.Order(StringComparer.Ordinal))
        {
            if (expected.Contains(name) || name == LmHead)
            {
                continue;
            }

            var match = BufferKey().Match(name);
            if (match.Success && match.Groups["prefix"].Value == prefix && int.Parse(match.Groups["layer"].Value, System.Globalization.CultureInfo.InvariantCulture) < config.NumLayers)
            {
                ignored.Add(name);
            }
            else
            {
                unexpected.Add(name);
            }
        }

        if (unexpected.Count > 0)
        {
            throw new SharpGptException(path, $"{unexpected.Count} tensor(s) that a GPT-2 ({Describe(config)}) does not have: {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", ..." : "")}.");
        }

        return new ImportPlan(config, prefix, ignored);
    }

    private static GptConfig InferConfig(SafeTensorsFile file, string prefix, int? heads)
    {
        string path = file.Path;
        var wte = file.Tensors[prefix + "wte.weight"];
        if (!file.Tensors.TryGetValue(prefix + "wpe.weight", out var wpe))
        {
            throw new SharpGptException(path, $"tensor '{prefix}wpe.weight' is missing.");
        }

        if (wte.Shape.Length != 2 || wpe.Shape.Length != 2 || wte.Shape[1] != wpe.Shape[1])
        {
            throw new SharpGptException(path, $"wte.weight {wte.ShapeText} and wpe.weight {wpe.ShapeText} are not [vocab, n_embd] and [n_positions, n_embd].");
        }

        int layers = 0;
        while (file.Tensors.ContainsKey($"{prefix}h.{layers}.ln_1.weight"))
        {
            layers++;
        }

        if (heads is not int h)
        {
            throw new SharpGptException(path, $"no {HuggingFaceGpt2Config.FileName} beside it, and n_head cannot be read from the tensor shapes: give HuggingFaceHeads.");
        }

        if (wte.Shape[0] > int.MaxValue || wte.Shape[1] > int.MaxValue || wpe.Shape[0] > int.MaxValue)
        {
            throw new SharpGptException(path, $"wte.weight {wte.ShapeText} or wpe.weight {wpe.ShapeText} is too large.");
        }

        var config = new GptConfig(MaxSeqLen: (int)wpe.Shape[0], VocabSize: (int)wte.Shape[0], NumLayers: layers, NumHeads: h, Channels: (int)wte.Shape[1]);
        config.Validate($"{path} (shape read from its tensors)");
        return config;
    }

    private static void RequireShape(string path, SafeTensorInfo tensor, long[] shape, GptConfig config)
    {
        if (!tensor.Shape.SequenceEqual(shape))
        {
            throw new SharpGptException(path, $"tensor '{tensor.Name}' has shape {tensor.ShapeText}, expected [{string.Join(", ", shape)}] for {Describe(config)}.");
        }

        if (!ReadableDTypes.Contains(tensor.DType))
        {
            throw new SharpGptException(path, $"tensor '{tensor.Name}' has dtype {tensor.DType}; weights must be {string.Join(", ", ReadableDTypes)}.");
        }
    }

    private static void CheckTied(SafeTensorsFile file, SafeTensorInfo lmHead, float* importedWte, int c)
    {
        float[] head = file.ReadFloats(lmHead);
        var wte = new ReadOnlySpan<float>(importedWte, head.Length);
        for (int i = 0; i < head.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(head[i]) != BitConverter.SingleToInt32Bits(wte[i]))
            {
                throw new SharpGptException(file.Path, $"lm_head.weight differs from wte.weight (first at row {i / c}, column {i % c}: {head[i]} vs {wte[i]})",
                    "this model ties the output layer to the token embedding, so an untied checkpoint cannot be imported.");
            }
        }
    }

    private static string Describe(GptConfig c) =>
        $"n_layer {c.NumLayers}, n_embd {c.Channels}, vocab {c.VocabSize}, n_positions {c.MaxSeqLen}";

    /// <summary>destination[c, r] = source[r, c] for a rows x cols source.</summary>
    private static void Transpose(float* source, float* destination, int rows, int cols)
    {
        const int block = 32;
        for (int r0 = 0; r0 < rows; r0 += block)
        {
            int r1 = Math.Min(rows, r0 + block);
            for (int c0 = 0; c0 < cols; c0 += block)
            {
                int c1 = Math.Min(cols, c0 + block);
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++)
                    {
                        destination[((long)c * rows) + r] = source[((long)r * cols) + c];
                    }
                }
            }
        }
    }

    [GeneratedRegex(@"^(?<prefix>(transformer\.)?)h\.(?<layer>[0-9]{1,6})\.attn\.(bias|masked_bias)$", RegexOptions.CultureInvariant)]
    private static partial Regex BufferKey();
}
