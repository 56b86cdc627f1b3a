namespace SharpGpt.Kernels;

/// <summary>
/// A pointer to fp32 or to bf16 (<see cref="BFloat16"/>) elements, for the kernel arguments that
/// may be stored either way in mixed precision: matmul inputs and weights, and the outputs of the
/// kernels that produce them. Converts implicitly from <c>float*</c> and <c>ushort*</c>, so fp32
/// callers read as before; offsets count elements, whatever their size.
/// </summary>
internal readonly unsafe struct TypedPointer
{
    private readonly void* _address;

    private TypedPointer(void* address, bool isBf16)
    {
        _address = address;
        IsBf16 = isBf16;
    }

    /// <summary>Bytes per element: 4 for fp32, 2 for bf16.</summary>
    public int ElementSize => IsBf16 ? sizeof(ushort) : sizeof(float);

    public bool IsBf16 { get; }

    public bool IsNull => _address == null;

    /// <summary>The untyped address, for byte-wise copies.</summary>
    public void* Address => _address;

    /// <summary>The fp32 elements; throws if they are bf16.</summary>
    public float* Fp32 => !IsBf16 ? (float*)_address : throw new InvalidOperationException("The data is bf16, not fp32.");

    /// <summary>The bf16 elements; throws if they are fp32.</summary>
    public ushort* Bf16 => IsBf16 ? (ushort*)_address : throw new InvalidOperationException("The data is fp32, not bf16.");

    public static implicit operator TypedPointer(float* address) => new(address, isBf16: false);

    public static implicit operator TypedPointer(ushort* address) => new(address, isBf16: true);

    public static TypedPointer operator +(TypedPointer pointer, long elements) =>
        pointer.IsBf16 ? (ushort*)pointer._address + elements : (float*)pointer._address + elements;
}
