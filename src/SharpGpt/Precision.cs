using System.Text.Json.Serialization;

namespace SharpGpt;

/// <summary>What a model's matrix multiplies read.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Precision>))]
public enum Precision
{
    /// <summary>fp32 everywhere.</summary>
    Fp32,

    /// <summary>
    /// Mixed precision: the matmuls read bf16 weights (rounded from the fp32 master weights) and
    /// bf16 copies of their input activations, which are also what the backward keeps; they sum
    /// in fp32. Gradients, master weights, AdamW state, LayerNorm statistics, softmax and loss stay fp32.
    /// </summary>
    Bf16,
}
