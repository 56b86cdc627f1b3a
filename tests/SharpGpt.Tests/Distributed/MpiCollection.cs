namespace SharpGpt.Tests.Distributed;

/// <summary>mpirun jobs run one at a time: each already uses a core per rank.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MpiCollection
{
    public const string Name = "mpirun";
}
