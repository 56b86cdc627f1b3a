using SharpGpt.Formats;
using SharpGpt.Model;

namespace SharpGpt.Eval;

/// <summary>The largest difference between our values and a reference for one tensor.</summary>
internal sealed record TensorDifference(string Name, double MaxAbsDifference, long Index, float Ours, float Expected, double Tolerance)
{
    public bool Ok => MaxAbsDifference <= Tolerance;
}

/// <summary>How one forward and backward compares with a PyTorch / llm.c debug state.</summary>
internal sealed record VerificationReport(float Loss, float ExpectedLoss, TensorDifference Logits, IReadOnlyList<TensorDifference> Gradients)
{
    public const double LogitTolerance = 1e-2;
    public const double LossTolerance = 1e-2;
    public const double GradientTolerance = 2e-2;

    public bool LossOk => Math.Abs(Loss - ExpectedLoss) <= LossTolerance;

    public bool Ok => LossOk && Logits.Ok && Gradients.All(g => g.Ok);
}

/// <summary>Checks the model against a reference with llm.c's tolerances (test_gpt2.c).</summary>
internal static unsafe class ReferenceVerifier
{
    public static VerificationReport Verify(GptNetwork model, LlmcDebugState state)
    {
        var config = model.Config;
        model.ZeroGradients();
        float loss = model.Forward(state.Inputs, state.Targets, state.B, state.T);

        int v = config.VocabSize, vp = config.PaddedVocabSize, rows = state.B * state.T;
        var logits = new Difference("logits", VerificationReport.LogitTolerance);
        using (var ours = model.ReadLogits())
        {
            for (int r = 0; r < rows; r++)
            {
                for (int i = 0; i < v; i++)
                {
                    logits.Add(((long)r * v) + i, ours.Pointer[((long)r * vp) + i], state.ExpectedLogits[((long)r * v) + i]);
                }
            }
        }

        model.Backward(1f / model.TargetCount);
        var layout = model.Layout;
        using var ourGradients = model.ReadGradients();
        float* grads = ourGradients.Pointer;
        var gradients = new List<TensorDifference>();
        for (int t = 0; t < ParameterLayout.TensorCount; t++)
        {
            var d = new Difference(ParameterLayout.Names[t], VerificationReport.GradientTolerance);
            long o = layout.Offsets[t];
            for (long i = 0; i < layout.Sizes[t]; i++)
            {
                d.Add(i, grads[o + i], state.ExpectedGradients[o + i]);
            }

            gradients.Add(d.Result());
        }

        return new VerificationReport(loss, state.ExpectedLoss, logits.Result(), gradients);
    }

    private sealed class Difference(string name, double tolerance)
    {
        private double _max = -1;
        private long _index;
        private float _ours, _expected;

        public void Add(long index, float ours, float expected)
        {
            double d = Math.Abs((double)ours - expected);
            if (d > _max || double.IsNaN(d))
            {
                _max = double.IsNaN(d) ? double.PositiveInfinity : d;
                _index = index;
                _ours = ours;
                _expected = expected;
            }
        }

        public TensorDifference Result() => new(name, Math.Max(0, _max), _index, _ours, _expected, tolerance);
    }
}
