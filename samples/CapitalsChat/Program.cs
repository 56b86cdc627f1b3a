using System.Text;
using Microsoft.Extensions.AI;
using SharpGpt;

// Text held in memory: little dialogues in the chat template's own transcript form, so the chat client's
// prompts ("User: ...\n\nAssistant:") look like what the model learned.
(string Country, string Capital)[] facts =
[
    ("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Japan", "Tokyo"), ("Egypt", "Cairo"),
    ("Peru", "Lima"), ("Kenya", "Nairobi"), ("Norway", "Oslo"), ("Canada", "Ottawa"), ("Chile", "Santiago"),
];
var rng = new Random(7);
var text = new StringBuilder();
for (int i = 0; i < 3000; i++)
{
    var (country, capital) = facts[rng.Next(facts.Length)];
    text.Append($"User: What is the capital of {country}?\n\nAssistant: {capital}.\n\n");
}

// A character-level GPT: 4 layers, 4 heads, 128 channels, a block of 64 characters.
var tokenizer = GptTokenizer.CreateCharacterLevel(text.ToString());
var data = TrainingData.FromText(text.ToString(), tokenizer, validationFraction: 0.1);
using (var model = GptModel.Create(new GptConfig(MaxSeqLen: 64, VocabSize: tokenizer.VocabSize, NumLayers: 4, NumHeads: 4, Channels: 128), tokenizer))
{
    var losses = new StepLosses();
    var result = model.Train(data, new TrainingOptions
    {
        MaxSteps = 300,
        SequenceLength = 64,
        MicroBatchSize = 12,
        LearningRate = 1e-3f,
        MinLearningRate = 1e-4f,
        WarmupSteps = 30,
        BatchOrder = BatchOrder.RandomWindows,
        ValidationInterval = 100,
        ValidationBatches = 10,
    }, losses);
    Console.WriteLine($"trained {result.Steps} steps in {result.TrainingTime.TotalSeconds:F1} s: first loss {losses.First:F4}, last loss {losses.Last:F4}, validation {result.FinalValidationLoss:F4}");
    model.Save("capitals.sgpt");
}

// Reload it and ask through Microsoft.Extensions.AI's IChatClient.
using var reloaded = GptModel.Open("capitals.sgpt");
IChatClient chat = reloaded.AsChatClient();
var response = await chat.GetResponseAsync("What is the capital of Japan?", new ChatOptions { MaxOutputTokens = 40, Temperature = 0 });
Console.WriteLine("User: What is the capital of Japan?");
Console.WriteLine($"Assistant: {response.Text}");

/// <summary>The loss of every training step, as the run reports it.</summary>
internal sealed class StepLosses : IProgress<TrainingEvent>
{
    public float First { get; private set; } = float.NaN;

    public float Last { get; private set; } = float.NaN;

    public void Report(TrainingEvent value)
    {
        if (value is TrainingStepCompleted step)
        {
            First = float.IsNaN(First) ? step.Loss : First;
            Last = step.Loss;
        }
    }
}
