using System.Runtime.InteropServices;

namespace SharpGpt.Distributed;

/// <summary>
/// The few entry points of Open MPI's libmpi that data-parallel training uses, bound at run time.
/// Open MPI's handles are the addresses of exported globals (MPI_COMM_WORLD is
/// &amp;ompi_mpi_comm_world, MPI_FLOAT is &amp;ompi_mpi_float, ...), unlike MS-MPI's integer handles,
/// which is why MPI.NET cannot be used. Functions are called through unmanaged function pointers,
/// so nothing is loaded until a process started by mpirun asks for it.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    /// <summary>MPI_IN_PLACE in Open MPI's mpi.h.</summary>
    public static readonly void* InPlace = (void*)1;

    /// <summary>MPI_THREAD_SERIALIZED: MPI is only ever called from one thread at a time (the training loop's).</summary>
    public const int ThreadSerialized = 2;

    private const int MaxErrorString = 256;

    // libmpi.so.40 is the soname of Open MPI 3, 4 and 5; libmpi.so comes with libopenmpi-dev.
    private static readonly string[] Candidates = ["libmpi.so.40", "libmpi.so", "libmpi"];

    private MpiLibrary(nint handle)
    {
        Handle = handle;
        CommWorld = Export(handle, "ompi_mpi_comm_world");
        Float = Export(handle, "ompi_mpi_float");
        Double = Export(handle, "ompi_mpi_double");
        Byte = Export(handle, "ompi_mpi_byte");
        OpSum = Export(handle, "ompi_mpi_op_sum");
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export(handle, "MPI_Init_thread");
        Finalized = (delegate* unmanaged<int*, int>)Export(handle, "MPI_Finalized");
        FinalizeMpi = (delegate* unmanaged<int>)Export(handle, "MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Export(handle, "MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Export(handle, "MPI_Comm_size");
        Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export(handle, "MPI_Allreduce");
        ReduceScatter = (delegate* unmanaged<void*, void*, int*, nint, nint, nint, int>)Export(handle, "MPI_Reduce_scatter");
        Allgatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int>)Export(handle, "MPI_Allgatherv");
        Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export(handle, "MPI_Bcast");
        Barrier = (delegate* unmanaged<nint, int>)Export(handle, "MPI_Barrier");
        Abort = (delegate* unmanaged<nint, int, int>)Export(handle, "MPI_Abort");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Export(handle, "MPI_Error_string");
    }

    public nint Handle { get; }

    public nint CommWorld { get; }

    public nint Float { get; }

    public nint Double { get; }

    public nint Byte { get; }

    public nint OpSum { get; }

    /// <summary>MPI_Init_thread(argc, argv, required, provided).</summary>
    public delegate* unmanaged<int*, byte***, int, int*, int> InitThread { get; }

    public delegate* unmanaged<int*, int> Finalized { get; }

    public delegate* unmanaged<int> FinalizeMpi { get; }

    public delegate* unmanaged<nint, int*, int> CommRank { get; }

    public delegate* unmanaged<nint, int*, int> CommSize { get; }

    /// <summary>MPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm).</summary>
    public delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce { get; }

    /// <summary>MPI_Reduce_scatter(sendbuf, recvbuf, recvcounts, datatype, op, comm).</summary>
    public delegate* unmanaged<void*, void*, int*, nint, nint, nint, int> ReduceScatter { get; }

    /// <summary>MPI_Allgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm).</summary>
    public delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int> Allgatherv { get; }

    /// <summary>MPI_Bcast(buffer, count, datatype, root, comm).</summary>
    public delegate* unmanaged<void*, int, nint, int, nint, int> Bcast { get; }

    public delegate* unmanaged<nint, int> Barrier { get; }

    /// <summary>MPI_Abort(comm, errorcode): ends every rank of the job.</summary>
    public delegate* unmanaged<nint, int, int> Abort { get; }

    public delegate* unmanaged<int, byte*, int*, int> ErrorString { get; }

    /// <summary>Loads Open MPI's libmpi; the error says what to install when it is missing.</summary>
    public static MpiLibrary Load()
    {
        var tried = new List<string>();
        foreach (string name in Candidates)
        {
            if (NativeLibrary.TryLoad(name, out nint handle))
            {
                if (NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out _))
                {
                    return new MpiLibrary(handle);
                }

                tried.Add($"{name} (not Open MPI: no ompi_mpi_comm_world)");
                continue;
            }

            tried.Add(name);
        }

        throw new DllNotFoundException(
            $"This process was started by mpirun, but Open MPI's library could not be loaded (tried {string.Join(", ", tried)}). " +
            "Install it with 'apt-get install openmpi-bin libopenmpi-dev', or run without mpirun for a single-process run.");
    }

    /// <summary>Throws with MPI's own description when a call did not return MPI_SUCCESS.</summary>
    public void Check(int code, string call)
    {
        if (code == 0)
        {
            return;
        }

        byte* text = stackalloc byte[MaxErrorString + 1];
        int length = 0;
        string message = ErrorString(code, text, &length) == 0 ? System.Text.Encoding.ASCII.GetString(text, length) : "unknown error";
        throw new InvalidOperationException($"{call} failed with MPI error {code}: {message}");
    }

    private static nint Export(nint handle, string name) =>
        NativeLibrary.TryGetExport(handle, name, out nint address) ? address
            : throw new EntryPointNotFoundException($"Open MPI's libmpi has no symbol '{name}'; is it Open MPI 3 or newer?");
}
