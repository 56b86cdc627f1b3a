using System.Text.Json;
using SharpGpt.Model;

namespace SharpGpt.Formats;

/// <summary>
/// The config.json of a Hugging Face GPT-2 (<c>GPT2Config</c>): read into a <see cref="GptConfig"/>,
/// refusing settings this model does not compute (another activation, LayerNorm epsilon, MLP width
/// or attention scaling), and written with the fields <c>GPT2LMHeadModel.from_pretrained</c> expects.
/// </summary>
internal static class HuggingFaceGpt2Config
{
    public const string FileName = "config.json";

    private static readonly string[] TanhGelu = ["gelu_new", "gelu_pytorch_tanh"];

    public static GptConfig Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "config.json not found.");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new SharpGptException(path, $"not valid JSON: {e.Message}", innerException: e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SharpGptException(path, "not a JSON object.");
            }

            if (root.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() != "gpt2")
            {
                throw new SharpGptException(path, $"model_type is \"{type.GetString()}\", expected \"gpt2\".");
            }

            int layers = RequiredInt(root, path, "n_layer");
            int heads = RequiredInt(root, path, "n_head");
            int channels = RequiredInt(root, path, "n_embd");
            int vocab = RequiredInt(root, path, "vocab_size");
            int positions = OptionalInt(root, path, "n_positions") ?? OptionalInt(root, path, "n_ctx")
                ?? throw new SharpGptException(path, "neither \"n_positions\" nor \"n_ctx\" is given.");

            if (root.TryGetProperty("activation_function", out var act) && !(act.ValueKind == JsonValueKind.String && TanhGelu.Contains(act.GetString())))
            {
                throw new SharpGptException(path, $"activation_function {act.GetRawText()} is not supported; this model computes the tanh GELU (\"gelu_new\").");
            }

            if (root.TryGetProperty("layer_norm_epsilon", out var eps) && !(eps.ValueKind == JsonValueKind.Number && Math.Abs(eps.GetDouble() - 1e-5) < 1e-12))
            {
                throw new SharpGptException(path, $"layer_norm_epsilon {eps.GetRawText()} is not supported; this model uses 1e-5.");
            }

            if (root.TryGetProperty("n_inner", out var inner) && inner.ValueKind != JsonValueKind.Null
                && !(inner.ValueKind == JsonValueKind.Number && inner.TryGetInt32(out int innerValue) && innerValue == 4 * channels))
            {
                throw new SharpGptException(path, $"n_inner {inner.GetRawText()} is not supported; the MLP is 4 x n_embd = {4 * channels} wide.");
            }

            RequireBool(root, path, "scale_attn_weights", expected: true);
            RequireBool(root, path, "scale_attn_by_inverse_layer_idx", expected: false);

            var config = new GptConfig(MaxSeqLen: positions, VocabSize: vocab, NumLayers: layers, NumHeads: heads, Channels: channels);
            config.Validate(path);
            return config;
        }
    }

    /// <summary>Writes config.json (atomically) as <c>GPT2LMHeadModel.save_pretrained</c> would for this shape.</summary>
    public static void Write(string path, GptConfig config) => AtomicFile.Write(path, stream =>
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("activation_function", "gelu_new");
        json.WriteStartArray("architectures");
        json.WriteStringValue("GPT2LMHeadModel");
        json.WriteEndArray();
        json.WriteNumber("attn_pdrop", 0.1);
        if (config.VocabSize == Data.Gpt2Tokenizer.Gpt2VocabSize)
        {
            json.WriteNumber("bos_token_id", Data.Gpt2Tokenizer.EndOfText);
            json.WriteNumber("eos_token_id", Data.Gpt2Tokenizer.EndOfText);
        }

        json.WriteNumber("embd_pdrop", 0.1);
        json.WriteNumber("initializer_range", 0.02);
        json.WriteNumber("layer_norm_epsilon", 1e-5);
        json.WriteString("model_type", "gpt2");
        json.WriteNumber("n_ctx", config.MaxSeqLen);
        json.WriteNumber("n_embd", config.Channels);
        json.WriteNumber("n_head", config.NumHeads);
        json.WriteNull("n_inner");
        json.WriteNumber("n_layer", config.NumLayers);
        json.WriteNumber("n_positions", config.MaxSeqLen);
        json.WriteBoolean("reorder_and_upcast_attn", false);
        json.WriteNumber("resid_pdrop", 0.1);
        json.WriteBoolean("scale_attn_by_inverse_layer_idx", false);
        json.WriteBoolean("scale_attn_weights", true);
        json.WriteBoolean("tie_word_embeddings", true);
        json.WriteString("torch_dtype", "float32");
        json.WriteBoolean("use_cache", true);
        json.WriteNumber("vocab_size", config.VocabSize);
        json.WriteEndObject();
        json.Flush();
        stream.WriteByte((byte)'\n');
    });

    private static int RequiredInt(JsonElement root, string path, string name) =>
        OptionalInt(root, path, name) ?? throw new SharpGptException(path, $"\"{name}\" is missing.");

    private static int? OptionalInt(JsonElement root, string path, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int v) && v > 0
            ? v
            : throw new SharpGptException(path, $"\"{name}\" is {value.GetRawText()}, not a positive integer.");
    }

    private static void RequireBool(JsonElement root, string path, string name, bool expected)
    {
        if (root.TryGetProperty(name, out var value) && !(value.ValueKind == (expected ? JsonValueKind.True : JsonValueKind.False)))
        {
            throw new SharpGptException(path, $"{name} {value.GetRawText()} is not supported; this model needs {(expected ? "true" : "false")}.");
        }
    }
}
