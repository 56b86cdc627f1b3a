using System.CommandLine;
using SharpGpt.Cli.Commands;

var root = new RootCommand("SharpGPT: train, evaluate and sample GPT-2 models in .NET.");
foreach (var command in CommandRegistry.All())
{
    root.Subcommands.Add(command);
}

return root.Parse(args).Invoke();
