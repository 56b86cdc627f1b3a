namespace SharpGpt.Gpu.Cuda;

/// <summary>
/// Where to look for cuBLAS and cuBLASLt (CUDA 13 or 12), in order: SHARPGPT_CUDA_LIBS, CUDA_HOME
/// and CUDA_PATH (lib64), /usr/local/cuda/lib64, the NVIDIA pip wheels of the Python environments
/// on the machine (site-packages/nvidia/cu13/lib, nvidia/cublas/lib), then the loader's default.
/// The search is over names and folders only, so it can be tested with a fake file tree.
/// </summary>
internal sealed class CudaLibraryPaths(Func<string, string?> environment, string root = "/")
{
    /// <summary>The CUDA major versions tried, newest first.</summary>
    public static readonly int[] Versions = [13, 12];

    public static CudaLibraryPaths ForThisMachine() => new(Environment.GetEnvironmentVariable);

    /// <summary>The folders searched, in order, each with why it is searched.</summary>
    public IReadOnlyList<(string Folder, string Source)> Folders()
    {
        var folders = new List<(string, string)>();
        if (environment("SHARPGPT_CUDA_LIBS") is { Length: > 0 } configured)
        {
            folders.AddRange(configured.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(f => (f, "SHARPGPT_CUDA_LIBS")));
        }

        foreach (string variable in (string[])["CUDA_HOME", "CUDA_PATH"])
        {
            if (environment(variable) is { Length: > 0 } home)
            {
                folders.Add((Path.Combine(home, "lib64"), variable));
            }
        }

        folders.Add((Under("usr/local/cuda/lib64"), "/usr/local/cuda"));
        foreach (string sitePackages in PythonSitePackages())
        {
            folders.Add((Path.Combine(sitePackages, "nvidia", "cu13", "lib"), "NVIDIA's pip wheels"));
            folders.Add((Path.Combine(sitePackages, "nvidia", "cublas", "lib"), "NVIDIA's pip wheels"));
        }

        return [.. folders.Distinct()];
    }

    /// <summary>The first folder holding libcublas.so.N and libcublasLt.so.N of one version, or null
    /// (then the loader's default search path is the last resort).</summary>
    public (string Folder, int Version)? Find()
    {
        foreach (var (folder, _) in Folders())
        {
            foreach (int version in Versions)
            {
                if (File.Exists(Path.Combine(folder, Cublas(version))) && File.Exists(Path.Combine(folder, CublasLt(version))))
                {
                    return (folder, version);
                }
            }
        }

        return null;
    }

    public static string Cublas(int version) => $"libcublas.so.{version}";

    public static string CublasLt(int version) => $"libcublasLt.so.{version}";

    // site-packages and dist-packages of the Python environments a machine usually has: the active
    // virtual or conda environment, pyenv's versions, the user's and the system's.
    private IEnumerable<string> PythonSitePackages()
    {
        var prefixes = new List<string>();
        foreach (string variable in (string[])["VIRTUAL_ENV", "CONDA_PREFIX"])
        {
            if (environment(variable) is { Length: > 0 } prefix)
            {
                prefixes.Add(prefix);
            }
        }

        string home = environment("HOME") is { Length: > 0 } h ? h : Under("root");
        prefixes.AddRange(Subfolders(Path.Combine(home, ".pyenv", "versions")));
        prefixes.Add(Path.Combine(home, ".local"));
        prefixes.AddRange([Under("opt/conda"), Under("usr/local"), Under("usr")]);
        foreach (string prefix in prefixes)
        {
            foreach (string python in Subfolders(Path.Combine(prefix, "lib")).Where(p => Path.GetFileName(p).StartsWith("python3", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                yield return Path.Combine(python, "site-packages");
                yield return Path.Combine(python, "dist-packages");
            }
        }
    }

    private string Under(string relative) => Path.Combine(root, relative);

    private static IEnumerable<string> Subfolders(string folder)
    {
        try
        {
            return Directory.Exists(folder) ? Directory.GetDirectories(folder).Order(StringComparer.Ordinal) : [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }
}
