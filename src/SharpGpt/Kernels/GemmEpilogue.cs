namespace SharpGpt.Kernels;

/// <summary>
/// Element-wise work a GEMM applies to each finished block of C (a thread's chunk, after its last
/// k slice) while the block is still in cache: this is how bias + GELU (forward) and GELU's derivative (backward) run
/// inside the matrix multiply rather than as a separate pass over memory. The auxiliary matrix
/// has C's shape, row stride <see cref="Ld"/>; it is fp32, or bf16 where a bf16 matmul reads it.
/// </summary>
public readonly unsafe struct GemmEpilogue
{
    private GemmEpilogue(delegate*<float*, TypedPointer, int, void> row, TypedPointer aux, int ld)
    {
        Row = row;
        Aux = aux;
        Ld = ld;
    }

    /// <summary>row(c, aux, n) for one row segment of a finished block: n elements of C and the matching aux.</summary>
    public delegate*<float*, TypedPointer, int, void> Row { get; }

    public TypedPointer Aux { get; }

    public int Ld { get; }

    public bool IsNone => Row == null;

    /// <summary>output (fp32 or bf16) = GELU(C), then C = GELU'(C), which is what the backward needs.</summary>
    public static GemmEpilogue Gelu(TypedPointer output, int ld) => new(&GeluRow, output, ld);

    /// <summary>C = C ∘ derivative, the GELU'(x) the forward wrote: C was the gradient of GELU's output and becomes that of its input.</summary>
    public static GemmEpilogue GeluBackward(float* derivative, int ld) => new(&GeluBackwardRow, derivative, ld);

    private static void GeluRow(float* c, TypedPointer output, int n) => Kernels.Gelu.ForwardSpan(output, c, c, n);

    private static void GeluBackwardRow(float* c, TypedPointer derivative, int n) => Kernels.Gelu.BackwardSpan(c, derivative.Fp32, c, n);
}
