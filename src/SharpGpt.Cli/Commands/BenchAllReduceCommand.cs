using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpGpt.Distributed;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Cli.Commands;

/// <summary>
/// <c>sharpgpt bench-allreduce</c>, under mpirun: times the gradient exchange of one optimizer step
/// for a model size: the all-reduce in chunks and as one call, and ZeRO-1's reduce-scatter plus
/// all-gather.
/// </summary>
internal static class BenchAllReduceCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Model size whose gradient is exchanged: gpt2-124m, gpt2-350m, ...", DefaultValueFactory = _ => "gpt2-124m" };
        var steps = new Option<int>("--steps") { Description = "Timed repetitions of each exchange (after one untimed)", DefaultValueFactory = _ => 5 };
        var commChunk = CommonOptions.CommChunk();
        var command = new Command("bench-allreduce", "Under mpirun: time the all-reduce of one step's gradients, chunked and as one call, and ZeRO-1's reduce-scatter + all-gather.")
        {
            preset, steps, commChunk,
        };
        command.SetAction(r => DistributedRun.Run(r, r.GetValue(commChunk), collectives =>
        {
            if (collectives.WorldSize < 2)
            {
                throw new SharpGptException("ranks", "bench-allreduce needs at least 2", "start it with 'mpirun -np 2 sharpgpt bench-allreduce'.");
            }

            return Run((MpiCollectives)collectives, CommonOptions.Preset(r.GetValue(preset)!), r.GetValue(steps), r.GetValue(commChunk));
        }));
        return command;
    }

    private static unsafe int Run(MpiCollectives mpi, GptConfig config, int steps, long chunk)
    {
        long total = new ParameterLayout(config).Total;
        using var buffer = new NativeBuffer(total);
        var span = buffer.Pointer;
        for (long i = 0; i < total; i++)
        {
            span[i] = ((i % 1000) * 1e-6f) + mpi.Rank;
        }

        var partition = new ZeroPartition(total, mpi.WorldSize, mpi.Rank, chunk);
        var results = new Dictionary<string, object>
        {
            ["ranks"] = mpi.WorldSize,
            ["floats"] = total,
            ["chunk_floats"] = chunk,
            ["allreduce_chunked_ms"] = Time(mpi, steps, () =>
            {
                mpi.ChunkFloats = chunk;
                mpi.AllReduceSum(buffer.Pointer, total);
            }),
            ["allreduce_one_call_ms"] = Time(mpi, steps, () =>
            {
                mpi.ChunkFloats = total;
                mpi.AllReduceSum(buffer.Pointer, total);
            }),
            ["zero1_reduce_scatter_ms"] = Time(mpi, steps, () =>
            {
                foreach (var round in partition.Rounds)
                {
                    mpi.ReduceScatterSum(buffer.Pointer + round.Start, round.Counts);
                }
            }),
            ["zero1_all_gather_ms"] = Time(mpi, steps, () =>
            {
                foreach (var round in partition.Rounds)
                {
                    mpi.AllGather(buffer.Pointer + round.Start, round.Counts);
                }
            }),
        };

        if (mpi.Rank == 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mpi.WorldSize} ranks, {total:N0} floats ({total * 4 / 1e6:F0} MB) per step, chunks of {chunk:N0} floats"));
            foreach (var (name, value) in results.Where(kv => kv.Key.EndsWith("_ms", StringComparison.Ordinal)))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-26} {value,10:F1} ms"));
            }

            Console.WriteLine(JsonSerializer.Serialize(results));
        }

        return 0;
    }

    /// <summary>Median wall time on rank 0 over the timed repetitions, each started together after a barrier.</summary>
    private static double Time(MpiCollectives mpi, int steps, Action exchange)
    {
        var times = new List<double>();
        for (int i = 0; i <= steps; i++)
        {
            mpi.Barrier();
            long start = Stopwatch.GetTimestamp();
            exchange();
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (i > 0)
            {
                times.Add(ms);
            }
        }

        times.Sort();
        return Math.Round(times.Count == 0 ? double.NaN : times[times.Count / 2], 1);
    }
}
