using System.Diagnostics;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>
/// What a few real micro-steps of a model cost on this machine: forward + backward and forward alone, at
/// <see cref="MicroBatch"/> sequences of <see cref="SeqLen"/> tokens, after a warm-up step that pages in the
/// activations. When the run's micro-batch would take long to time, one sequence is timed instead and the
/// estimate scales it (<see cref="SecondsPerSequence"/>): larger batches run the matrix multiplies a little more
/// efficiently, so that errs long.
/// </summary>
internal sealed record MicroStepTiming(int MicroBatch, int SeqLen, int TimedSteps, double MicroStepSeconds, double ForwardSeconds, double MeasuredSeconds)
{
    /// <summary>A micro-batch is timed whole when one warm-up sequence says it takes at most this long.</summary>
    public const double WholeBatchSeconds = 10;

    /// <summary>Forward + backward of one sequence.</summary>
    public double SecondsPerSequence => MicroStepSeconds / MicroBatch;

    /// <summary>Forward alone, per token (validation and HellaSwag).</summary>
    public double ForwardSecondsPerToken => ForwardSeconds / ((double)MicroBatch * SeqLen);

    /// <summary>Runs a warm-up and <paramref name="steps"/> timed micro-steps of random tokens on
    /// <paramref name="model"/> (its gradients are left dirty: the model is not trained afterwards).</summary>
    public static MicroStepTiming Measure(GptNetwork model, int microBatch, int seqLen, int steps, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var clock = Stopwatch.StartNew();
        var rng = new Rng(seed);
        double oneSequence = Time(() => Step(model, rng, 1, seqLen));
        int b = microBatch > 1 && oneSequence * microBatch <= WholeBatchSeconds ? microBatch : 1;
        if (b > 1)
        {
            Step(model, rng, b, seqLen); // warm-up at the real shape
        }

        double total = 0;
        for (int i = 0; i < steps; i++)
        {
            total += Time(() => Step(model, rng, b, seqLen));
        }

        double forward = Time(() => Forward(model, rng, b, seqLen));
        model.ZeroGradients();
        return new MicroStepTiming(b, seqLen, steps, total / steps, forward, clock.Elapsed.TotalSeconds);
    }

    private static void Step(GptNetwork model, Rng rng, int b, int t)
    {
        var (inputs, targets) = RandomTokens(model, rng, b, t);
        model.ForwardBackward(inputs, targets, b, t, 1f);
    }

    private static void Forward(GptNetwork model, Rng rng, int b, int t)
    {
        var (inputs, targets) = RandomTokens(model, rng, b, t);
        model.ForwardLoss(inputs, targets, b, t);
    }

    private static (int[] Inputs, int[] Targets) RandomTokens(GptNetwork model, Rng rng, int b, int t)
    {
        var tokens = new int[(b * t) + 1];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = rng.NextInt(model.Config.VocabSize);
        }

        return (tokens[..^1], tokens[1..]);
    }

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
