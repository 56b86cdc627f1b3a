using System.Runtime.InteropServices;
using SharpGpt.Devices;

namespace SharpGpt.Gpu.Cuda;

/// <summary>Loads cuBLAS (and the cuBLASLt it needs, from the same folder first) from where <see cref="CudaLibraryPaths"/> says.</summary>
internal static class CublasLibrary
{
    /// <summary>The handles of libcublas.so.N and its libcublasLt.so.N, and cuBLAS's path; throws <see cref="GpuUnavailableException"/> naming every place it looked.</summary>
    public static (nint Cublas, nint CublasLt, string Path) Load(CudaLibraryPaths paths)
    {
        if (paths.Find() is var (folder, version))
        {
            string lt = Path.Combine(folder, CudaLibraryPaths.CublasLt(version)), cublas = Path.Combine(folder, CudaLibraryPaths.Cublas(version));
            if (NativeLibrary.TryLoad(lt, out nint ltHandle) && NativeLibrary.TryLoad(cublas, out nint handle))
            {
                return (handle, ltHandle, cublas);
            }
        }

        // The loader's own search (LD_LIBRARY_PATH, ld.so.cache), last.
        foreach (int v in CudaLibraryPaths.Versions)
        {
            if (NativeLibrary.TryLoad(CudaLibraryPaths.CublasLt(v), out nint ltHandle) && NativeLibrary.TryLoad(CudaLibraryPaths.Cublas(v), out nint handle))
            {
                return (handle, ltHandle, CudaLibraryPaths.Cublas(v));
            }
        }

        string searched = string.Join(", ", paths.Folders().Select(f => $"{f.Folder} ({f.Source})"));
        throw new GpuUnavailableException(
            $"no cuBLAS: looked for {string.Join(" or ", CudaLibraryPaths.Versions.Select(v => $"{CudaLibraryPaths.Cublas(v)} with {CudaLibraryPaths.CublasLt(v)}"))} in {searched}, then the loader's path; "
            + "install the CUDA toolkit or NVIDIA's pip wheels (pip install nvidia-cublas-cu12), or set SHARPGPT_CUDA_LIBS to the folder that holds them");
    }
}
