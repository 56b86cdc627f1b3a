namespace SharpGpt;

/// <summary>What the records of <see cref="DataPreparer"/>'s input hold, and so which tokens are trained on.</summary>
public enum DataFormat
{
    /// <summary>Decided from the first record of the first file: a <c>messages</c> field makes it
    /// <see cref="Chat"/>, <c>prompt</c> and <c>completion</c> fields <see cref="PromptCompletion"/>, anything else
    /// (and every .txt) <see cref="Text"/>.</summary>
    Auto,

    /// <summary>Documents (a .txt, or the text field or column of each record); every token is trained on.</summary>
    Text,

    /// <summary><c>{"prompt": ..., "completion": ...}</c>: the completion is trained on, the prompt is not.</summary>
    PromptCompletion,

    /// <summary><c>{"messages": [{"role": "system"|"user"|"assistant", "content": ...}, ...]}</c> (the OpenAI and
    /// Hugging Face form): the assistant's turns are trained on.</summary>
    Chat,
}
