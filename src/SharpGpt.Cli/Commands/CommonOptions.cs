using System.CommandLine;
using SharpGpt.Devices;
using SharpGpt.Distributed;
using SharpGpt.Kernels;

namespace SharpGpt.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class CommonOptions
{
    private static readonly string[] DeviceNames = ["auto", "cpu", "cuda", "cuda-emulated"];

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

    public static Option<ComputeDevice> Device()
    {
        var option = new Option<ComputeDevice>("--device")
        {
            Description = "What the kernels run on: auto (the default: an NVIDIA GPU when one and cuBLAS are found, else the CPU), cpu, cuda, "
                + "or cuda-emulated (the GPU code path on the CPU, slow, for checking it without a GPU)",
            DefaultValueFactory = _ => ComputeDevice.Auto,
            CustomParser = result => ParseDevice(result.Tokens[^1].Value),
        };
        option.AcceptOnlyFromAmong(DeviceNames);
        return option;
    }

    /// <summary>How a command opens or makes its model: the device (auto on the CPU under mpirun, where the
    /// collectives are), the precision and the threads.</summary>
    public static GptModelOptions ModelOptions(ComputeDevice device, Precision precision, int threads, int processRanks = 1) => new()
    {
        Device = device == ComputeDevice.Auto && processRanks > 1 ? ComputeDevice.Cpu : device,
        Precision = precision,
        Threads = ResolveThreads(threads),
    };

    /// <summary>The backend for --device, for the diagnostics that run kernels directly (bench, gpu-check). Its line
    /// (which device, and why for auto) goes to stdout, first, unless <paramref name="announce"/> is false.</summary>
    public static ComputeBackend CreateBackend(ComputeDevice device, ParallelRunner runner, bool announce = true)
    {
        var backend = ComputeBackend.Create(GptModel.DeviceOf(device), runner);
        if (announce && (backend.IsGpu || device == ComputeDevice.Auto))
        {
            Console.WriteLine(backend.Describe());
        }

        return backend;
    }

    // Ranks on one machine would otherwise each start a thread per core and fight over them. When
    // mpirun binds each rank to a core, ProcessorCount already reports 1.
    public static int ResolveThreads(int requested) => requested > 0 ? requested : Math.Max(1, Environment.ProcessorCount / MpiLaunch.LocalRanks);

    /// <summary>The model shape of --preset.</summary>
    public static GptConfig Preset(string name)
    {
        try
        {
            return GptConfig.FromPreset(name);
        }
        catch (ArgumentException e)
        {
            throw new SharpGptException("--preset", $"unknown preset '{name}'", $"known: {string.Join(", ", GptConfig.PresetNames)}.", e);
        }
    }

    /// <summary>The name --device takes for a device.</summary>
    public static string NameOf(ComputeDevice device) => DeviceNames[(int)device];

    private static ComputeDevice ParseDevice(string name)
    {
        int i = Array.IndexOf(DeviceNames, name.ToLowerInvariant());
        return i >= 0 ? (ComputeDevice)i : throw new SharpGptException("--device", $"'{name}' is not a device", $"use {string.Join(", ", DeviceNames)}");
    }
}
