using SharpGpt.Distributed;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Model;
using SharpGpt.Training;

namespace SharpGpt.Tests.Distributed;

/// <summary>
/// AdamW for thread ranks against <see cref="ReplicatedAdamW"/> over the same ranks, in lockstep: the
/// same batches on two sets of replicas and the same gradient scale, so the weights of every replica,
/// the moments and the cleared gradients must agree bit for bit.
/// </summary>
public sealed class ThreadRankAdamWTests
{
    // 53,208 parameters: not a whole number of cache lines, tensors that start mid-line, slices of two blocks.
    private static readonly GptConfig Config = new(MaxSeqLen: 13, VocabSize: 97, NumLayers: 3, NumHeads: 3, Channels: 36);

    private const int B = 2, T = 13, Steps = 4;

    [Theory]
    [InlineData(2, false, Precision.Fp32, 1)]
    [InlineData(3, false, Precision.Fp32, 1)]
    [InlineData(3, true, Precision.Fp32, 1)]
    [InlineData(2, false, Precision.Bf16, 1)] // a replica whose weights other ranks wrote must round its bf16 copy again
    [InlineData(2, true, Precision.Fp32, 2)] // two threads per rank: a slice's blocks in parallel
    public void UpdatesEveryReplicaLikeReplicatedAdamW(int ranks, bool decayAll, Precision precision, int threadsPerRank)
    {
        Assert.NotEqual(0, new ParameterLayout(Config).Total % 16);
        var settings = new AdamWSettings(WeightDecay: 0.5f, DecayAll: decayAll);
        var runners = Enumerable.Range(0, ranks).Select(_ => new ParallelRunner(threadsPerRank)).ToArray();
        using var source = TestModels.Create(Config, runners[0], seed: 11);
        var fused = runners.Select(r => source.Replicate(new CpuKernels(r))).ToArray();
        var reference = runners.Select(r => source.Replicate(new CpuKernels(r))).ToArray();
        try
        {
            foreach (var model in fused.Concat(reference))
            {
                model.Precision = precision;
            }

            var norms = new double[ranks][];
            byte[] expectedMoments = [], writtenMoments = [], rereadMoments = [];
            ThreadRanks.Run(ranks, c =>
            {
                using var mine = new ThreadRankAdamW(fused[c.Rank], settings, c);
                using var replicated = new ReplicatedAdamW(reference[c.Rank], settings, c);
                var (x, y) = TestModels.Batch(Config, B, T, seed: (ulong)c.Rank + 1);
                norms[c.Rank] = new double[Steps];
                for (int step = 0; step < Steps; step++)
                {
                    fused[c.Rank].ForwardBackward(x, y, B, T, 1f / (B * T));
                    reference[c.Rank].ForwardBackward(x, y, B, T, 1f / (B * T));
                    double norm = mine.ReduceGradients(), expected = replicated.ReduceGradients();
                    Assert.Equal(expected, norm, 1e-6 * expected);

                    // Clipping on, from the reference's norm: the update must not depend on the norm's last bits.
                    float scale = GradientClipper.ScaleFor(expected, 0.05f);
                    Assert.True(scale < 1, $"clipping should be active (norm {expected})");
                    mine.Update(1e-2f, scale);
                    replicated.Update(1e-2f, scale);
                    norms[c.Rank][step] = norm;
                }

                using (var written = c.Rank == 0 ? new MemoryStream() : null)
                using (var expected = c.Rank == 0 ? new MemoryStream() : null)
                {
                    mine.WriteMoments(written);
                    replicated.WriteMoments(expected);
                    if (c.Rank == 0)
                    {
                        (writtenMoments, expectedMoments) = (written!.ToArray(), expected!.ToArray());
                    }
                }

                // Each rank reads its slice of the moments back into a fresh optimizer, which writes them whole again.
                c.Barrier();
                using var reread = new ThreadRankAdamW(fused[c.Rank], settings, c);
                using var stream = new MemoryStream(writtenMoments);
                reread.ReadMoments(stream);
                Assert.Equal(stream.Length, stream.Position);
                using var again = c.Rank == 0 ? new MemoryStream() : null;
                reread.WriteMoments(again);
                if (c.Rank == 0)
                {
                    rereadMoments = again!.ToArray();
                }

                return 0;
            });

            Assert.All(norms, n => Assert.Equal(norms[0], n));
            float[] weights = TestModels.Copy(reference[0].Parameters);
            Assert.True(weights.Zip(TestModels.Copy(source.Parameters), (e, a) => Math.Abs((double)e - a)).Max() > 1e-3, "the weights must have moved");
            for (int r = 0; r < ranks; r++)
            {
                Assert.True(weights.AsSpan().SequenceEqual(TestModels.Copy(fused[r].Parameters)), $"replica {r}'s weights differ from ReplicatedAdamW's");
                Assert.True(TestModels.Copy(fused[r].Gradients).All(g => g == 0), $"replica {r}'s gradients are not all cleared");
            }

            Assert.Equal(2L * sizeof(float) * source.Layout.Total, expectedMoments.Length);
            Assert.Equal(expectedMoments, writtenMoments);
            Assert.Equal(writtenMoments, rereadMoments);
        }
        finally
        {
            foreach (var model in fused.Concat(reference))
            {
                model.Dispose();
            }

            foreach (var runner in runners)
            {
                runner.Dispose();
            }
        }
    }

    [Fact]
    public void EachRankHoldsTheMomentsOfItsSliceOnly()
    {
        using var runner = new ParallelRunner(1);
        using var source = TestModels.Create(Config, runner);
        var replicas = Enumerable.Range(0, 3).Select(_ => source.Replicate(new CpuKernels(runner))).ToArray();
        try
        {
            var bytes = new long[3];
            ThreadRanks.Run(3, c =>
            {
                using var optimizer = new ThreadRankAdamW(replicas[c.Rank], new AdamWSettings(), c);
                bytes[c.Rank] = optimizer.MomentBytes;
                return 0;
            });

            // Thirds of the buffer, cut at whole cache lines.
            long all = 2L * sizeof(float) * source.Layout.Total;
            Assert.Equal(all, bytes.Sum());
            Assert.All(bytes, b => Assert.InRange(b, (all / 3) - (2 * 16 * sizeof(float)), (all / 3) + (2 * 16 * sizeof(float))));
        }
        finally
        {
            foreach (var replica in replicas)
            {
                replica.Dispose();
            }
        }
    }
}
