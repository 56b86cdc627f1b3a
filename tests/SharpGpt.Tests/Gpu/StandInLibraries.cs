using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SharpGpt.Tests.Gpu;

/// <summary>
/// The stand-ins for NVIDIA's libraries in Gpu/FakeCublasLt, compiled with the system's C compiler
/// and loaded once per test run (the file goes as soon as it is loaded).
/// </summary>
internal static class StandInLibraries
{
    private static readonly Dictionary<string, nint> Loaded = [];

    /// <summary>The handle of the library built from Gpu/FakeCublasLt/<paramref name="source"/>.</summary>
    public static nint Load(string source)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(source, out nint handle))
            {
                Loaded[source] = handle = CompileAndLoad(source);
            }

            return handle;
        }
    }

    /// <summary>An exported function of the stand-in that reports what it was given.</summary>
    public static unsafe T Call<T>(nint library, string name)
        where T : unmanaged => ((delegate* unmanaged<T>)NativeLibrary.GetExport(library, name))();

    private static nint CompileAndLoad(string source)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Gpu", "FakeCublasLt", source);
        string library = Path.Combine(Path.GetTempPath(), $"sharpgpt-{Path.GetFileNameWithoutExtension(source)}-{Environment.ProcessId}.so");
        using var cc = Process.Start(new ProcessStartInfo(CcFactAttribute.Compiler!, ["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o", library, path, "-lm"])
        {
            RedirectStandardError = true,
        })!;
        string errors = cc.StandardError.ReadToEnd();
        cc.WaitForExit();
        Assert.True(cc.ExitCode == 0, $"cc {source} failed: {errors}");
        try
        {
            return NativeLibrary.Load(library);
        }
        finally
        {
            File.Delete(library);
        }
    }
}
