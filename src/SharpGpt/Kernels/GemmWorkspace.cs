using System.Runtime.InteropServices;

namespace SharpGpt.Kernels;

/// <summary>
/// The packed-panel buffers of one running GEMM: the packed A block and the packed B block,
/// both shared by all threads of the call. Buffers are 64-byte aligned, grow only when a bigger
/// shape arrives, and are kept in a small pool so steady-state calls allocate nothing.
/// </summary>
internal sealed unsafe class GemmWorkspace : IDisposable
{
    private const int PoolSize = 4;
    private static readonly GemmWorkspace?[] Pool = new GemmWorkspace?[PoolSize];

    private float* _a;
    private float* _b;
    private long _aLength;
    private long _bLength;

    ~GemmWorkspace() => Free();

    /// <summary>Takes a workspace from the pool, or makes one when every pooled one is in use.</summary>
    public static GemmWorkspace Rent()
    {
        for (int i = 0; i < PoolSize; i++)
        {
            GemmWorkspace? ws = Interlocked.Exchange(ref Pool[i], null);
            if (ws != null)
            {
                return ws;
            }
        }

        return new GemmWorkspace();
    }

    /// <summary>Puts a workspace back, or frees it when the pool is full.</summary>
    public static void Return(GemmWorkspace ws)
    {
        for (int i = 0; i < PoolSize; i++)
        {
            if (Interlocked.CompareExchange(ref Pool[i], ws, null) == null)
            {
                return;
            }
        }

        ws.Dispose();
    }

    /// <summary>A buffer of at least <paramref name="length"/> floats for packed A.</summary>
    public float* A(long length) => Ensure(ref _a, ref _aLength, length);

    /// <summary>A buffer of at least <paramref name="length"/> floats for packed B.</summary>
    public float* B(long length) => Ensure(ref _b, ref _bLength, length);

    private static float* Ensure(ref float* buffer, ref long current, long length)
    {
        if (length > current)
        {
            NativeMemory.AlignedFree(buffer);
            buffer = null;
            current = 0;
            buffer = (float*)NativeMemory.AlignedAlloc((nuint)length * sizeof(float), 64);
            current = length;
        }

        return buffer;
    }

    private void Free()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        _a = null;
        _b = null;
        _aLength = 0;
        _bLength = 0;
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }
}
