using System.CommandLine;

namespace SharpGpt.Cli.Commands;

/// <summary>Every subcommand of the tool; each lives in its own file.</summary>
internal static class CommandRegistry
{
    public static IEnumerable<Command> All() =>
    [
        TrainCommand.Create(),
        PrepareCommand.Create(),
        EvalCommand.Create(),
        PlotCommand.Create(),
        VerifyCommand.Create(),
        BenchCommand.Create(),
        BenchAllReduceCommand.Create(),
        BenchServeCommand.Create(),
        SampleCommand.Create(),
        ChatCommand.Create(),
        ServeCommand.Create(),
        ImportCommand.Create(),
        ExportCommand.Create(),
        HellaSwagCommand.Create(),
        PtxCommand.Create(),
        GpuCheckCommand.Create(),
    ];
}
