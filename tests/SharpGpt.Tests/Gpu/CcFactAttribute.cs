namespace SharpGpt.Tests.Gpu;

/// <summary>A test that compiles C with the system's compiler (cc on PATH): skipped, with the reason, where there is none.</summary>
public sealed class CcFactAttribute : FactAttribute
{
    public CcFactAttribute()
    {
        if (Compiler is null)
        {
            Skip = "no C compiler (cc) on PATH to build the stand-in libcublasLt; apt-get install gcc";
        }
    }

    /// <summary>cc on PATH, or null.</summary>
    public static string? Compiler { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(dir => Path.Combine(dir, "cc")).FirstOrDefault(File.Exists);
}

/// <summary>The theory form of <see cref="CcFactAttribute"/>.</summary>
public sealed class CcTheoryAttribute : TheoryAttribute
{
    public CcTheoryAttribute()
    {
        if (CcFactAttribute.Compiler is null)
        {
            Skip = "no C compiler (cc) on PATH to build the stand-in libcublasLt; apt-get install gcc";
        }
    }
}
