namespace SharpGpt;

/// <summary>The tokenizer <see cref="DataPreparer"/> encodes with.</summary>
public enum TokenizerKind
{
    /// <summary>GPT-2's byte-level BPE (<see cref="GptTokenizer.Gpt2"/>): every document starts with &lt;|endoftext|&gt;.</summary>
    Gpt2,

    /// <summary>One token per distinct character of the whole input (<see cref="GptTokenizer.CreateCharacterLevel"/>); no end-of-text token.</summary>
    Character,
}
