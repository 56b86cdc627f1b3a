namespace SharpGpt;

/// <summary>
/// What a training run reports as it goes, to the <see cref="IProgress{T}"/> given to <see cref="GptModel.Train"/>:
/// one of the records below. They are reported on the training thread, in order; a handler that takes long slows
/// the run.
/// </summary>
/// <param name="Step">The optimizer step the event belongs to (0 before the first).</param>
public abstract record TrainingEvent(int Step);

/// <summary>The run's resolved plan, before anything else happens.</summary>
/// <param name="Options">The options as the run resolved them: sequence length, micro-batch, steps and learning-rate floor filled in.</param>
/// <param name="MicroBatchPerRank">Sequences each rank runs per micro-step.</param>
/// <param name="Ranks">Data-parallel ranks: threads (or processes) that each hold a replica and a share of the micro-batch.</param>
/// <param name="AccumulationSteps">Micro-steps per optimizer step.</param>
/// <param name="TokensPerStep">Tokens per optimizer step: micro-batch x sequence length x ranks x accumulation steps.</param>
/// <param name="Notes">How the plan was chosen, a line each (the micro-batch fitted to memory, the threads' split).</param>
public sealed record TrainingPlanned(TrainingOptions Options, int MicroBatchPerRank, int Ranks, int AccumulationSteps, long TokensPerStep, IReadOnlyList<string> Notes)
    : TrainingEvent(0);

/// <summary>The first step is about to run.</summary>
/// <param name="Step">The step the run starts after: 0, or the checkpoint's step when resuming.</param>
/// <param name="MaxSteps">The step the run ends at.</param>
/// <param name="ParameterCount">The model's weights.</param>
/// <param name="ResumedFrom">The checkpoint resumed from, or null.</param>
public sealed record TrainingStarted(int Step, int MaxSteps, long ParameterCount, string? ResumedFrom) : TrainingEvent(Step);

/// <summary>An optimizer step ended.</summary>
/// <param name="Step">The step, from 1.</param>
/// <param name="MaxSteps">The step the run ends at.</param>
/// <param name="Loss">The mean loss over the step's trained-on tokens.</param>
/// <param name="LearningRate">The learning rate the step used.</param>
/// <param name="GradientNorm">The global gradient norm, before clipping.</param>
/// <param name="TrainedTokens">Tokens whose prediction was trained on (masked targets excluded).</param>
/// <param name="Duration">The step's time.</param>
/// <param name="TokensPerSecond">The step's tokens (all of them) per second.</param>
/// <param name="Mfu">Model FLOPs utilisation against the measured peak of the CPU's FMA units; null where no peak is known (a GPU).</param>
/// <param name="Remaining">The estimated time to the last step, at the mean step time so far.</param>
public sealed record TrainingStepCompleted(int Step, int MaxSteps, float Loss, float LearningRate, double GradientNorm, long TrainedTokens,
    TimeSpan Duration, double TokensPerSecond, double? Mfu, TimeSpan Remaining) : TrainingEvent(Step);

/// <summary>A validation ended.</summary>
/// <param name="Step">The step it followed.</param>
/// <param name="Loss">The mean loss over the validation tokens read.</param>
/// <param name="WholeSplit">Whether it read the whole validation split.</param>
public sealed record ValidationCompleted(int Step, float Loss, bool WholeSplit) : TrainingEvent(Step);

/// <summary>A HellaSwag scoring ended.</summary>
/// <param name="Step">The step it followed.</param>
/// <param name="AccuracyNorm">acc_norm: the share of examples whose right ending has the lowest mean loss per token.</param>
/// <param name="Accuracy">acc: the share whose right ending has the lowest summed loss.</param>
/// <param name="Count">The examples scored.</param>
public sealed record HellaSwagCompleted(int Step, double AccuracyNorm, double Accuracy, int Count) : TrainingEvent(Step);

/// <summary>A sample generated during training (<see cref="TrainingOptions.SampleInterval"/>).</summary>
/// <param name="Step">The step it followed.</param>
/// <param name="Text">The sample.</param>
public sealed record SampleGenerated(int Step, string Text) : TrainingEvent(Step);

/// <summary>A checkpoint was written.</summary>
/// <param name="Step">The step it holds.</param>
/// <param name="Path">The file.</param>
public sealed record CheckpointSaved(int Step, string Path) : TrainingEvent(Step);

/// <summary>How far an evaluation during training has got (reported after each of its parts).</summary>
/// <param name="Step">The step it follows.</param>
/// <param name="Evaluation">"validation" or "HellaSwag".</param>
/// <param name="Progress">Batches (validation) or examples (HellaSwag) done, of this rank's total.</param>
/// <param name="Elapsed">The time since it started.</param>
public sealed record EvaluationAdvanced(int Step, string Evaluation, EvaluationProgress Progress, TimeSpan Elapsed) : TrainingEvent(Step);

/// <summary>Something worth telling: a resume's differences, removed temporary files, a divergence.</summary>
/// <param name="Step">The step it concerns.</param>
/// <param name="Message">The message, one line.</param>
public sealed record TrainingMessage(int Step, string Message) : TrainingEvent(Step);
