namespace SharpGpt.Training;

/// <summary>AdamW hyper-parameters. <see cref="DecayAll"/> applies weight decay to every tensor
/// (llm.c's test); otherwise only matrices and embeddings decay (the GPT-2 recipe).</summary>
internal sealed record AdamWSettings(float Beta1 = 0.9f, float Beta2 = 0.95f, float Epsilon = 1e-8f, float WeightDecay = 0.1f, bool DecayAll = false)
{
    /// <summary>The settings of llm.c's reference test.</summary>
    public static AdamWSettings LlmcTest => new(0.9f, 0.999f, 1e-8f, 0.01f, DecayAll: true);
}
