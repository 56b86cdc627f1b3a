using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>
/// One optimizer step reached by accumulating micro-batches. Each micro-step's backward adds the
/// gradient of its summed token losses; the sum is divided once by the number of unmasked targets
/// of the whole step (across ranks), so the step equals one big batch exactly, masks included.
/// </summary>
internal sealed class GradientAccumulationStep(GptNetwork model, IDistributedOptimizer optimizer, ICollectives collectives)
{
    /// <summary>Plain data parallelism over an existing optimizer and clipper.</summary>
    public GradientAccumulationStep(GptNetwork model, AdamWOptimizer optimizer, GradientClipper clipper, ICollectives collectives)
        : this(model, new ReplicatedAdamW(model, optimizer, clipper, collectives), collectives)
    {
    }

    /// <param name="nextMicroBatch">Gives the inputs and targets (B*T each) of micro-step i.</param>
    public StepResult Run(int accumulationSteps, int b, int t, Func<int, (int[] Inputs, int[] Targets)> nextMicroBatch, float learningRate, float maxGradNorm)
    {
        // Gradients are zero here: fresh, or cleared by the previous update.
        double lossSum = 0;
        long count = 0;
        for (int micro = 0; micro < accumulationSteps; micro++)
        {
            var (inputs, targets) = nextMicroBatch(micro);
            model.ForwardBackward(inputs, targets, b, t, 1f);
            lossSum += model.LossSum;
            count += model.TargetCount;
        }

        // Gradients are reduced across ranks once per optimizer step, after the last micro-step.
        double summedNorm = optimizer.ReduceGradients();
        Span<double> totals = [lossSum, count];
        collectives.AllReduceSum(totals);
        (lossSum, count) = (totals[0], (long)totals[1]);

        if (count == 0)
        {
            model.ZeroGradients();
            return new StepResult(0f, 0, learningRate, 0);
        }

        float loss = (float)(lossSum / count);
        double norm = summedNorm / count;
        if (!float.IsFinite(loss) || !double.IsFinite(norm))
        {
            model.ZeroGradients();
            return new StepResult(loss, norm, learningRate, count);
        }

        float scale = GradientClipper.ScaleFor(norm, maxGradNorm) / count;
        optimizer.Update(learningRate, scale);
        return new StepResult(loss, norm, learningRate, count);
    }
}
