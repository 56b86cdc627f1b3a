using System.CommandLine;
using SharpGpt.Devices;
using SharpGpt.Distributed;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class CommonOptions
{
    public static Option<int> Threads() => new("--threads") { Description = "Worker threads (default: all cores, shared out among the mpirun ranks on this machine)" };

    public static Option<ThreadParallelism> Parallel()
    {
        var option = new Option<ThreadParallelism>("--parallel")
        {
            Description = "How the threads share the work: kernels (each kernel split over all threads), batch (each thread a data-parallel rank with its share of the micro-batch), or auto (the default: batch for models up to 20M parameters whose micro-batch splits evenly, else kernels)",
        };
        option.AcceptOnlyFromAmong("auto", "kernels", "batch");
        return option;
    }

    public static Option<long> CommChunk() => new("--comm-chunk")
    {
        Description = "Floats per MPI call when large buffers are all-reduced, reduce-scattered or all-gathered",
        DefaultValueFactory = _ => MpiCollectives.DefaultChunkFloats,
    };

    public static Option<Precision> Dtype()
    {
        var option = new Option<Precision>("--dtype")
        {
            // No DefaultValueFactory: help would print the enum's name (Fp32); unset is Fp32, the enum's zero.
            Description = "fp32 (the default), or bf16 mixed precision: the matmuls read bf16 weights and activations and sum in fp32; master weights, gradients and AdamW stay fp32",
        };
        option.AcceptOnlyFromAmong("fp32", "bf16");
        return option;
    }

    public static Option<string> Device()
    {
        var option = new Option<string>("--device")
        {
            Description = "What the kernels run on: auto (the default: an NVIDIA GPU when one and cuBLAS are found, else the CPU), cpu, cuda, "
                + "or cuda-emulated (the GPU code path on the CPU, slow, for checking it without a GPU)",
            DefaultValueFactory = _ => ComputeBackend.Auto,
        };
        option.AcceptOnlyFromAmong([ComputeBackend.Auto, .. DeviceNames.All]);
        return option;
    }

    /// <summary>The backend for --device. Its line (which device, and why for auto) goes to stdout, first,
    /// unless <paramref name="announce"/> is false: ranks other than 0, and commands whose stdout is their
    /// product (sample), which say it with the rest of their header.</summary>
    public static ComputeBackend CreateBackend(string device, ParallelRunner runner, bool announce = true, int processRanks = 1)
    {
        var backend = ComputeBackend.Create(device, runner, processRanks);
        if (announce && (backend.IsGpu || device == ComputeBackend.Auto))
        {
            Console.WriteLine(backend.Describe());
        }

        return backend;
    }

    // Ranks on one machine would otherwise each start a thread per core and fight over them. When
    // mpirun binds each rank to a core, ProcessorCount already reports 1.
    public static int ResolveThreads(int requested) => requested > 0 ? requested : Math.Max(1, Environment.ProcessorCount / MpiLaunch.LocalRanks);
}
