namespace SharpGpt.Tests;

/// <summary>Tests that redirect Console.Out run one at a time, so their captures never mix.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console output";
}
