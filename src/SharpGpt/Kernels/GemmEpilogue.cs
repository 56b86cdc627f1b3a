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

    /// <summary>output (fp32 or bf16) = GELU(C), C kept (it is GELU's input, needed by the backward).</summary>
    public static GemmEpilogue Gelu(TypedPointer output, int ld) => new(&GeluRow, output, ld);

    /// <summary>C = C ∘ GELU'(preact): C was the gradient of GELU's output and becomes that of its input.</summary>
    public static GemmEpilogue GeluBackward(float* preact, int ld) => new(&GeluBackwardRow, preact, ld);

    private static void GeluRow(float* c, TypedPointer output, int n) => Kernels.Gelu.ForwardSpan(output, c, n);

    private static void GeluBackwardRow(float* c, TypedPointer preact, int n) => Kernels.Gelu.BackwardSpan(c, preact.Fp32, c, n);
}
