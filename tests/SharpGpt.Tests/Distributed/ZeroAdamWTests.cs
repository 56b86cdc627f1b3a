using SharpGpt.Distributed;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Model;
using SharpGpt.Training;

namespace SharpGpt.Tests.Distributed;

/// <summary>
/// ZeRO-1's optimizer on one rank, cut into many small rounds whose blocks straddle tensors: it
/// must update exactly like the replicated AdamW (per-tensor weight decay included) and write and
/// read its moments in the full layout. Runs without MPI; the multi-rank tests start mpirun.
/// </summary>
public sealed class ZeroAdamWTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UpdatesLikeReplicatedAdamWAndRoundTripsItsMoments(bool decayAll)
    {
        using var runner = new ParallelRunner(2);
        var settings = new AdamWSettings(WeightDecay: 0.5f, DecayAll: decayAll);
        using var plain = TestModels.Create(TestModels.Tiny, runner, seed: 3);
        using var sharded = TestModels.Create(TestModels.Tiny, runner, seed: 3);
        var single = new SingleProcess();
        using var reference = new ReplicatedAdamW(plain, settings, single);
        using var zero = new ZeroAdamW(sharded, settings, single, chunkFloats: 100);
        Assert.True(zero.Partition.Rounds.Count > 100);
        var (x, y) = TestModels.Batch(TestModels.Tiny, 2, 9, seed: 4);
        float[] initial = TestModels.Copy(plain.Parameters);

        for (int step = 0; step < 3; step++)
        {
            var norms = new List<double>();
            foreach (var (model, optimizer) in new (GptNetwork, IDistributedOptimizer)[] { (plain, reference), (sharded, zero) })
            {
                model.ZeroGradients();
                model.Forward(x, y, 2, 9);
                model.Backward(1f / model.TargetCount);
                norms.Add(optimizer.ReduceGradients());
                optimizer.Update(1e-2f, gradScale: 0.5f);
            }

            // The norm sums its squares in float within blocks, so other block bounds round differently.
            Assert.Equal(norms[0], norms[1], 1e-6 * norms[0]);
        }

        // Same gradients, same per-element AdamW: the same bits, whatever the blocks.
        Assert.True(TestModels.Copy(plain.Parameters).AsSpan().SequenceEqual(TestModels.Copy(sharded.Parameters)), "weights differ");
        Assert.True(TestModels.Copy(plain.Parameters).Zip(initial, (e, a) => Math.Abs((double)e - a)).Max() > 1e-2, "the weights must have moved");

        using var written = new MemoryStream();
        using var replicated = new MemoryStream();
        zero.WriteMoments(written);
        reference.WriteMoments(replicated);
        Assert.Equal(replicated.ToArray(), written.ToArray());

        using var reread = new ZeroAdamW(sharded, settings, single, chunkFloats: 100);
        written.Position = 0;
        reread.ReadMoments(written);
        Assert.Equal(written.Length, written.Position);
        using var again = new MemoryStream();
        reread.WriteMoments(again);
        Assert.Equal(written.ToArray(), again.ToArray());
    }
}
