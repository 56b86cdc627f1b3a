using SharpGpt.Gpu.Cuda;
using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.Gpu;

/// <summary>The cuBLAS search over a fake file tree: its order, and what it needs to find.</summary>
public sealed class CudaLibraryPathsTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public void FoldersComeInTheDocumentedOrder()
    {
        Directory.CreateDirectory(_root.File("home/.pyenv/versions/3.11.7/lib/python3.11"));
        Directory.CreateDirectory(_root.File("usr/lib/python3.12"));
        var env = new Dictionary<string, string>
        {
            ["SHARPGPT_CUDA_LIBS"] = "/opt/a:/opt/b",
            ["CUDA_HOME"] = "/opt/cuda-home",
            ["CUDA_PATH"] = "/opt/cuda-path",
            ["HOME"] = _root.File("home"),
        };
        var folders = new CudaLibraryPaths(name => env.GetValueOrDefault(name), _root.Path).Folders().Select(f => f.Folder).ToList();
        string pyenv = _root.File("home/.pyenv/versions/3.11.7/lib/python3.11/site-packages");
        string[] expected =
        [
            "/opt/a", "/opt/b", "/opt/cuda-home/lib64", "/opt/cuda-path/lib64", _root.File("usr/local/cuda/lib64"),
            Path.Combine(pyenv, "nvidia/cu13/lib"), Path.Combine(pyenv, "nvidia/cublas/lib"),
        ];
        Assert.Equal(expected, folders.Take(expected.Length));
        Assert.Contains(_root.File("usr/lib/python3.12/dist-packages/nvidia/cublas/lib"), folders);
    }

    [Fact]
    public void TheFirstFolderWithBothLibrariesOfOneVersionWins()
    {
        string onlyCublas = _root.File("only-cublas"), wheel = _root.File("venv/lib/python3.11/site-packages/nvidia/cublas/lib");
        Touch(onlyCublas, "libcublas.so.13");
        Touch(wheel, "libcublas.so.12", "libcublasLt.so.12");
        var env = new Dictionary<string, string> { ["SHARPGPT_CUDA_LIBS"] = onlyCublas, ["VIRTUAL_ENV"] = _root.File("venv") };
        var paths = new CudaLibraryPaths(name => env.GetValueOrDefault(name), _root.Path);
        Assert.Equal((wheel, 12), paths.Find());

        // A CUDA_HOME with both versions comes before the wheels, and 13 before 12.
        env["CUDA_HOME"] = _root.File("cuda");
        Touch(_root.File("cuda/lib64"), "libcublas.so.12", "libcublasLt.so.12", "libcublas.so.13", "libcublasLt.so.13");
        Assert.Equal((_root.File("cuda/lib64"), 13), paths.Find());
    }

    [Fact]
    public void NothingFoundIsNull()
    {
        var paths = new CudaLibraryPaths(_ => null, _root.Path);
        Assert.Null(paths.Find());
        Assert.Contains(_root.File("usr/local/cuda/lib64"), paths.Folders().Select(f => f.Folder));
    }

    private static void Touch(string folder, params string[] files)
    {
        Directory.CreateDirectory(folder);
        foreach (string file in files)
        {
            File.WriteAllText(Path.Combine(folder, file), "");
        }
    }
}
