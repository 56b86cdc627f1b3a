namespace SharpGpt.Tests.Distributed;

/// <summary>A test that starts mpirun: skipped, with the reason in the test report, where Open MPI is not installed.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiJob.Mpirun is null)
        {
            Skip = "mpirun not found on PATH: install Open MPI (apt-get install openmpi-bin libopenmpi-dev; .ci/run does) to run the multi-process tests.";
        }
    }
}
