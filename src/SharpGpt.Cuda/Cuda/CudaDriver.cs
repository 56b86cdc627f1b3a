using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Text;

namespace SharpGpt.Gpu.Cuda;

/// <summary>
/// The few CUDA driver calls SharpGPT makes itself (what is there, how much memory is free), through
/// libcuda.so.1 loaded by hand; and the fix for ILGPU 1.5.3, which asks the loader for an
/// unversioned libcuda.so that many machines lack (the driver installs libcuda.so.1).
/// </summary>
internal static unsafe class CudaDriver
{
    private const string LibraryName = "libcuda.so.1";
    private const int AttributeMultiprocessors = 16;
    private const int AttributeComputeMajor = 75;
    private const int AttributeComputeMinor = 76;

    private static readonly Lazy<(nint Handle, string? Error)> Library = new(Load);
    private static int _resolverInstalled;

    /// <summary>Why the driver library could not be loaded, or null when it was.</summary>
    public static string? LoadError => Library.Value.Error;

    /// <summary>Lets ILGPU's "cuda" import find libcuda.so.1 (once per process).</summary>
    public static void InstallResolver()
    {
        if (Interlocked.Exchange(ref _resolverInstalled, 1) == 0)
        {
            // Called only when the default probing (libcuda.so, cuda, ...) fails, so it never overrides a working setup.
            AssemblyLoadContext.Default.ResolvingUnmanagedDll += (assembly, name) =>
                assembly == typeof(ILGPU.Context).Assembly && name is "cuda" or "libcuda" or "libcuda.so" && Library.Value.Handle != 0
                    ? Library.Value.Handle
                    : 0;
        }
    }

    /// <summary>cuInit, then the driver's CUDA version (e.g. 13000) and the number of devices; a message instead when there is no usable driver.</summary>
    public static (int DriverVersion, int Devices, string? Error) Probe()
    {
        if (LoadError is { } error)
        {
            return (0, 0, error);
        }

        int status = ((delegate* unmanaged<int, int>)Export("cuInit"))(0);
        if (status != 0)
        {
            return (0, 0, $"the NVIDIA driver is installed but cuInit failed with CUDA error {status} ({ErrorName(status)})");
        }

        int version = 0, count = 0;
        Check(((delegate* unmanaged<int*, int>)Export("cuDriverGetVersion"))(&version), "cuDriverGetVersion");
        Check(((delegate* unmanaged<int*, int>)Export("cuDeviceGetCount"))(&count), "cuDeviceGetCount");
        return (version, count, count == 0 ? "the NVIDIA driver reports no CUDA device" : null);
    }

    /// <summary>Name, compute capability, SMs and memory of device ordinal (after <see cref="Probe"/>).</summary>
    public static (string Name, int Major, int Minor, int Multiprocessors, long Memory) Describe(int ordinal)
    {
        int device = 0;
        Check(((delegate* unmanaged<int*, int, int>)Export("cuDeviceGet"))(&device, ordinal), "cuDeviceGet");
        var name = stackalloc byte[256];
        Check(((delegate* unmanaged<byte*, int, int, int>)Export("cuDeviceGetName"))(name, 256, device), "cuDeviceGetName");
        nuint memory = 0;
        Check(((delegate* unmanaged<nuint*, int, int>)Export("cuDeviceTotalMem_v2"))(&memory, device), "cuDeviceTotalMem_v2");
        return (Marshal.PtrToStringUTF8((nint)name) ?? "?", Attribute(AttributeComputeMajor, device), Attribute(AttributeComputeMinor, device),
            Attribute(AttributeMultiprocessors, device), (long)memory);
    }

    /// <summary>Free and total bytes of the current context's device (the ILGPU accelerator must be bound).</summary>
    public static (long Free, long Total) MemoryInfo()
    {
        nuint free = 0, total = 0;
        Check(((delegate* unmanaged<nuint*, nuint*, int>)Export("cuMemGetInfo_v2"))(&free, &total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    private static int Attribute(int attribute, int device)
    {
        int value = 0;
        Check(((delegate* unmanaged<int*, int, int, int>)Export("cuDeviceGetAttribute"))(&value, attribute, device), "cuDeviceGetAttribute");
        return value;
    }

    private static nint Export(string name) =>
        LoadError is { } error ? throw new InvalidOperationException(error) : NativeLibrary.GetExport(Library.Value.Handle, name);

    private static void Check(int status, string call)
    {
        if (status != 0)
        {
            throw new InvalidOperationException($"{call} failed with CUDA error {status} ({ErrorName(status)}).");
        }
    }

    private static string ErrorName(int status)
    {
        if (LoadError is null && NativeLibrary.TryGetExport(Library.Value.Handle, "cuGetErrorName", out nint export))
        {
            byte* text = null;
            if (((delegate* unmanaged<int, byte**, int>)export)(status, &text) == 0 && text != null)
            {
                return Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(text));
            }
        }

        return "unknown";
    }

    private static (nint, string?) Load() =>
        NativeLibrary.TryLoad(LibraryName, Assembly.GetExecutingAssembly(), DllImportSearchPath.SafeDirectories | DllImportSearchPath.System32, out nint handle)
            || NativeLibrary.TryLoad(LibraryName, out handle)
            ? (handle, null)
            : (0, $"no NVIDIA driver: {LibraryName} was not found by the loader (is the NVIDIA driver installed, and the GPU visible to this container?)");
}
