namespace SharpGpt.Kernels;

/// <summary>Typed and streamed transfers over <see cref="IDeviceMemory"/>'s byte copies.</summary>
internal static unsafe class DeviceMemoryExtensions
{
    /// <summary>Floats per staged chunk when streaming device memory to or from a file.</summary>
    private const int StreamChunk = 1 << 22;

    public static void Upload<T>(this IDeviceMemory memory, T* device, ReadOnlySpan<T> host)
        where T : unmanaged
    {
        fixed (T* h = host)
        {
            memory.CopyToDevice(device, h, (long)host.Length * sizeof(T));
        }
    }

    public static void Download<T>(this IDeviceMemory memory, Span<T> host, T* device)
        where T : unmanaged
    {
        fixed (T* h = host)
        {
            memory.CopyToHost(h, device, (long)host.Length * sizeof(T));
        }
    }

    /// <summary>n elements of the backend's memory as a new host array.</summary>
    public static T[] ToArray<T>(this IDeviceMemory memory, T* device, long n)
        where T : unmanaged
    {
        var data = new T[n];
        memory.Download(data.AsSpan(), device);
        return data;
    }

    /// <summary>A host view of n floats at <paramref name="device"/>; see <see cref="HostView"/>.</summary>
    public static HostView OpenHostView(this IDeviceMemory memory, float* device, long n, bool read, bool writeBack) =>
        new(memory, device, n, read, writeBack);

    /// <summary>Writes count floats from the backend's memory to a stream, staged in chunks where the memory is a device's.</summary>
    public static void WriteFloats(this IDeviceMemory memory, Stream stream, float* device, long count)
    {
        if (memory.IsHostMemory)
        {
            WriteHostFloats(stream, device, count);
            return;
        }

        using var staging = new NativeBuffer(Math.Min(count, StreamChunk));
        for (long done = 0; done < count; done += StreamChunk)
        {
            int n = (int)Math.Min(StreamChunk, count - done);
            memory.CopyToHost(staging.Pointer, device + done, (long)n * sizeof(float));
            stream.Write(new ReadOnlySpan<byte>(staging.Pointer, n * sizeof(float)));
        }
    }

    /// <summary>Reads count floats from a stream into the backend's memory, staged in chunks where the memory is a device's.</summary>
    public static void ReadFloats(this IDeviceMemory memory, Stream stream, float* device, long count)
    {
        if (memory.IsHostMemory)
        {
            ReadHostFloats(stream, device, count);
            return;
        }

        using var staging = new NativeBuffer(Math.Min(count, StreamChunk));
        for (long done = 0; done < count; done += StreamChunk)
        {
            int n = (int)Math.Min(StreamChunk, count - done);
            stream.ReadExactly(new Span<byte>(staging.Pointer, n * sizeof(float)));
            memory.CopyToDevice(device + done, staging.Pointer, (long)n * sizeof(float));
        }
    }

    /// <summary>Reads count floats into host memory in chunks (the buffer may exceed 2 GiB).</summary>
    public static void ReadHostFloats(Stream stream, float* destination, long count)
    {
        const int chunk = 1 << 26;
        for (long done = 0; done < count; done += chunk)
        {
            int n = (int)Math.Min(chunk, count - done);
            stream.ReadExactly(new Span<byte>(destination + done, n * sizeof(float)));
        }
    }

    /// <summary>Writes count floats from host memory in chunks (the buffer may exceed 2 GiB).</summary>
    public static void WriteHostFloats(Stream stream, float* source, long count)
    {
        const int chunk = 1 << 26;
        for (long done = 0; done < count; done += chunk)
        {
            int n = (int)Math.Min(chunk, count - done);
            stream.Write(new ReadOnlySpan<byte>(source + done, n * sizeof(float)));
        }
    }
}
