namespace SharpGpt.Data;

/// <summary>The input formats of companion assemblies, found by name so that an application that reads no Parquet
/// need not ship Parquet.Net.</summary>
internal static class InputFormats
{
    /// <summary>SharpGpt.Parquet's reader of .parquet files.</summary>
    public const string ParquetTypeName = "SharpGpt.Parquet.ParquetInputFormat, SharpGpt.Parquet";

    private static readonly Lazy<IInputFormat?> Parquet = new(() =>
        Type.GetType(ParquetTypeName, throwOnError: false) is { } type ? (IInputFormat?)Activator.CreateInstance(type) : null);

    /// <summary>The reader of .parquet files; throws naming the file when the application lacks SharpGpt.Parquet.</summary>
    public static IInputFormat ParquetFor(string path) => Parquet.Value
        ?? throw new SharpGptException(path, "reading .parquet files needs the SharpGpt.Parquet package, which this application does not reference", "add it (dotnet add package SharpGpt.Parquet).");
}
