using SharpGpt.Distributed;
using SharpGpt.Training;

namespace SharpGpt;

public sealed partial class GptModel
{
    /// <summary>
    /// Trains (or fine-tunes) the model on <paramref name="data"/> with the GPT-2 recipe: gradient accumulation to
    /// the step's batch, AdamW, warm-up and cosine decay, gradient clipping; validation, HellaSwag, samples and
    /// checkpoints on schedule. The model keeps the trained weights. With the same options a run gives the same
    /// losses bit for bit (and a resumed run those of a run never stopped).
    /// </summary>
    /// <param name="data">The tokens; their vocabulary must fit the model's.</param>
    /// <param name="options">The settings; a <see cref="TrainingRecipe"/>'s or the defaults when null.</param>
    /// <param name="progress">Hears every <see cref="TrainingEvent"/>, on the training thread; may be null.</param>
    /// <param name="cancellationToken">Ends the run after the step in progress (an evaluation under way is cut short),
    /// with a checkpoint of it when <see cref="TrainingOptions.OutputDirectory"/> is set; the result says
    /// <see cref="TrainingResult.Stopped"/>. It does not throw.</param>
    /// <returns>How the run ended.</returns>
    /// <exception cref="ArgumentException">An option is out of range or does not fit the model (the exception names it).</exception>
    /// <exception cref="SharpGptException">The data does not fit the model or the batch, a checkpoint cannot be resumed
    /// from, or a file cannot be read or written.</exception>
    public TrainingResult Train(TrainingData data, TrainingOptions? options = null, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var turn = TakeTurn(CancellationToken.None);
        using var single = new SingleProcess();
        return TrainingRun.Execute(this, data, options ?? new TrainingOptions(), single, progress, cancellationToken);
    }

    /// <summary>Trains as one rank of a data-parallel job (mpirun's processes).</summary>
    internal TrainingResult TrainAsRank(TrainingData data, TrainingOptions options, ICollectives collectives, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
    {
        using var turn = TakeTurn(CancellationToken.None);
        return TrainingRun.Execute(this, data, options, collectives, progress, cancellationToken);
    }

    /// <summary>After training: the model speaks the data's tokenizer and chat template.</summary>
    internal void AdoptData(TrainingData data)
    {
        Tokenizer ??= data.Tokenizer;
        ChatTemplate = data.ChatTemplate ?? ChatTemplate;
    }
}
