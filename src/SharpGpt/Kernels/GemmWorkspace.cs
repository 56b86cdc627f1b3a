using System.Runtime.InteropServices;

namespace SharpGpt.Kernels;

/// <summary>
/// The packed-panel buffers of one running GEMM: one block shared by all threads (the operand
/// packed up front) and one private buffer per thread slot (the operand each thread packs for its
/// own part of C). Buffers are 64-byte aligned, grow only when a bigger shape or more threads
/// arrive, and are kept in a small pool so that steady-state calls allocate nothing.
/// </summary>
internal sealed unsafe class GemmWorkspace : IDisposable
{
    private const int PoolSize = 4;
    private static readonly GemmWorkspace?[] Pool = new GemmWorkspace?[PoolSize];

    private float* _shared;
    private long _sharedLength;
    private float** _locals;
    private int _localCount;
    private long _localLength;

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

    /// <summary>The shared buffer, at least <paramref name="length"/> floats.</summary>
    public float* Shared(long length)
    {
        if (length > _sharedLength)
        {
            NativeMemory.AlignedFree(_shared);
            _shared = null;
            _sharedLength = 0;
            _shared = Allocate(length);
            _sharedLength = length;
        }

        return _shared;
    }

    /// <summary><paramref name="slots"/> private buffers of at least <paramref name="length"/> floats each.</summary>
    public float** Locals(int slots, long length)
    {
        if (slots > _localCount || length > _localLength)
        {
            slots = Math.Max(slots, _localCount);
            length = Math.Max(length, _localLength);
            FreeLocals();
            _locals = (float**)NativeMemory.AllocZeroed((nuint)slots, (nuint)sizeof(float*));
            _localCount = slots;
            for (int i = 0; i < slots; i++)
            {
                _locals[i] = Allocate(length);
            }

            _localLength = length;
        }

        return _locals;
    }

    private static float* Allocate(long length) =>
        (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, length) * sizeof(float), 64);

    private void FreeLocals()
    {
        for (int i = 0; i < _localCount; i++)
        {
            NativeMemory.AlignedFree(_locals[i]);
        }

        NativeMemory.Free(_locals);
        _locals = null;
        _localCount = 0;
        _localLength = 0;
    }

    private void Free()
    {
        NativeMemory.AlignedFree(_shared);
        _shared = null;
        _sharedLength = 0;
        FreeLocals();
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }
}
