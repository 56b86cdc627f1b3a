using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Gpu.Blas;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Kernels;

/// <summary>
/// A linear layer, out = inp · W^T + bias with W stored [OC, C], as cuBLAS products on the row-major
/// buffers read as column-major (llm.c's mapping): out^T = W^T' · inp^T. The bias is added in the
/// product's epilogue where the BLAS has one (cuBLASLt), else by a kernel; after the fc layer, with
/// GELU too (cuBLASLt's GELU epilogue, else the GELU kernel), keeping the pre-activation for the
/// backward. Its gradient is summed in row chunks, then down the chunks, in a fixed order. In mixed
/// precision both operands of a product are bf16, as cuBLAS wants: a fp32 operand (the gradient)
/// is rounded to bf16 in the workspace first.
/// </summary>
internal sealed unsafe class GpuMatmul(GpuDevice device, GpuReductions reductions, GpuConvert convert, GpuGelu gelu, GpuWorkspace workspace)
{
    /// <summary>Rows per chunk of the bias gradient's first pass.</summary>
    internal const int BiasChunkRows = 256;

    /// <summary>Workspace regions start at multiples of this many floats (256 bytes), as the tensor cores like operands.</summary>
    private const long Alignment = 64;

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, long>? _addBias;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int>? _biasPartials;

    private IBlas Blas => device.Blas;

    // out (N,OC) <- inp (N,C) · weight (OC,C)^T + bias (OC) or null
    public void Forward(float* output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
    {
        (inp, weight, _) = OneType(inp, weight, rows, c, oc);
        var type = inp.IsBf16 ? BlasDataType.BFloat16 : BlasDataType.Float32;
        if (bias != null && Blas.TryGemmEpilogue(BlasEpilogue.Bias, BlasOperation.Transpose, BlasOperation.None, oc, rows, c,
            weight.Address, type, c, inp.Address, c, output, BlasDataType.Float32, oc, bias, null, 0))
        {
            return;
        }

        Product(output, inp, weight, rows, c, oc);
        if (bias != null)
        {
            var v = device.Addresses;
            long n = (long)rows * oc;
            _addBias ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, long>(AddBiasKernel);
            _addBias(device.Elementwise(n), v.View<float>(output, n), v.View<float>(bias, oc), oc, n);
        }
    }

    // out (N,OC) = GELU(x), state (N,OC) = x in out's type, with x = inp · W^T + bias: one product with
    // cuBLASLt's GELU epilogue, else the product then one pass of the GELU kernel.
    public void ForwardGelu(float* stateBuffer, TypedPointer output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
    {
        long n = (long)rows * oc;
        (inp, weight, long rounded) = OneType(inp, weight, rows, c, oc);
        var type = inp.IsBf16 ? BlasDataType.BFloat16 : BlasDataType.Float32;
        TypedPointer state = output.IsBf16 ? (ushort*)stateBuffer : stateBuffer;
        if (bias != null && Blas.TryGemmEpilogue(BlasEpilogue.GeluAuxBias, BlasOperation.Transpose, BlasOperation.None, oc, rows, c,
            weight.Address, type, c, inp.Address, c, output.Address, output.IsBf16 ? BlasDataType.BFloat16 : BlasDataType.Float32, oc, bias, state.Address, oc))
        {
            return;
        }

        // The fp32 product lands in the state itself when the state is fp32 (each element is read, then
        // written, by one thread), else in the workspace, after any rounded operand: a bf16 state would
        // overwrite products not yet read.
        float* product = output.IsBf16 ? workspace.Get(rounded + n) + rounded : stateBuffer;
        Product(product, inp, weight, rows, c, oc);
        gelu.ForwardKeepingInput(output, state, product, bias, oc, n);
    }

    // dinp (N,C) = (overwritten), dweight (OC,C) +=, dbias (OC) += <- dout (N,OC), inp (N,C), weight (OC,C)
    public void Backward(float* dinp, float* dweight, float* dbias, float* dout, TypedPointer inp, TypedPointer weight, int rows, int c, int oc)
    {
        bool bf16 = inp.IsBf16 || weight.IsBf16;
        long nOut = (long)rows * oc, nIn = (long)rows * c;
        int chunks = (rows + BiasChunkRows - 1) / BiasChunkRows;
        long doutFloats = bf16 ? Align((nOut + 1) / 2) : 0;
        long inpFloats = bf16 && !inp.IsBf16 ? Align((nIn + 1) / 2) : 0;
        long weightFloats = bf16 && !weight.IsBf16 ? Align((((long)oc * c) + 1) / 2) : 0;
        float* ws = workspace.Get(doutFloats + inpFloats + weightFloats + (dbias != null ? (long)chunks * oc : 0));

        TypedPointer d = dout;
        if (bf16)
        {
            d = (ushort*)ws;
            convert.Convert(d, dout, nOut);
            inp = AsBf16(inp, ws + doutFloats, nIn);
            weight = AsBf16(weight, ws + doutFloats + inpFloats, (long)oc * c);
        }

        BackwardProducts(dinp, dweight, d, inp, weight, rows, c, oc);
        if (dbias != null)
        {
            var v = device.Addresses;
            var partials = v.View<float>(ws + doutFloats + inpFloats + weightFloats, (long)chunks * oc);
            _biasPartials ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int>(BiasPartialsKernel);
            _biasPartials(device.Elementwise((long)chunks * oc), partials, v.View<float>(dout, nOut), rows, oc, BiasChunkRows);
            reductions.SumColumns(v.View<float>(dbias, oc), partials, chunks, oc, oc);
        }
    }

    // dinp (N,C) = (overwritten), dweight (OC,C) += <- dout (N,OC) already in bf16, inp and weight bf16; no bias
    public void BackwardFromBf16(float* dinp, float* dweight, ushort* dout, TypedPointer inp, TypedPointer weight, int rows, int c, int oc)
    {
        if (!inp.IsBf16 || !weight.IsBf16)
        {
            throw new ArgumentException("a bf16 gradient's products take bf16 operands");
        }

        BackwardProducts(dinp, dweight, dout, inp, weight, rows, c, oc);
    }

    // dx (N,C) = (dout (N,OC) · weight (OC,C)) ∘ GELU'(x), x the state ForwardGelu kept; dweight, dbias += as Backward
    public void BackwardGelu(float* dx, float* dweight, float* dbias, float* dout, TypedPointer inp, float* stateBuffer, TypedPointer weight, int rows, int c, int oc)
    {
        Backward(dx, dweight, dbias, dout, inp, weight, rows, c, oc);
        gelu.BackwardFromInput(dx, inp.IsBf16 ? (ushort*)stateBuffer : stateBuffer, dx, (long)rows * c);
    }

    // The two products of the backward, operands of one type.
    private void BackwardProducts(float* dinp, float* dweight, TypedPointer dout, TypedPointer inp, TypedPointer weight, int rows, int c, int oc)
    {
        var type = dout.IsBf16 ? BlasDataType.BFloat16 : BlasDataType.Float32;
        // dinp^T (C x N) = W^T (C x OC, W as stored) · dout^T (OC x N)
        Blas.GemmEx(BlasOperation.None, BlasOperation.None, c, rows, oc, 1f, weight.Address, type, c, dout.Address, type, oc, 0f, dinp, c);
        // dW^T (C x OC) += inp^T (C x N) · dout (N x OC)
        Blas.GemmEx(BlasOperation.None, BlasOperation.Transpose, c, oc, rows, 1f, inp.Address, type, c, dout.Address, type, oc, 1f, dweight, c);
    }

    // out^T (OC x N) = W (as stored, C x OC, transposed) · inp^T (C x N); operands of one type (OneType)
    private void Product(float* output, TypedPointer inp, TypedPointer weight, int rows, int c, int oc)
    {
        var type = inp.IsBf16 ? BlasDataType.BFloat16 : BlasDataType.Float32;
        Blas.GemmEx(BlasOperation.Transpose, BlasOperation.None, oc, rows, c, 1f, weight.Address, type, c, inp.Address, type, c, 0f, output, oc);
    }

    // cuBLAS multiplies operands of one type: where one is bf16, the fp32 other is rounded to bf16 at
    // the workspace's start. Also returns the workspace floats that takes.
    private (TypedPointer Inp, TypedPointer Weight, long WorkspaceFloats) OneType(TypedPointer inp, TypedPointer weight, int rows, int c, int oc)
    {
        if (inp.IsBf16 == weight.IsBf16)
        {
            return (inp, weight, 0);
        }

        long n = inp.IsBf16 ? (long)oc * c : (long)rows * c;
        long floats = Align((n + 1) / 2);
        float* ws = workspace.Get(floats);
        return (AsBf16(inp, ws, (long)rows * c), AsBf16(weight, ws, (long)oc * c), floats);
    }

    // The operand as bf16: itself if it is, else rounded into target.
    private TypedPointer AsBf16(TypedPointer operand, float* target, long n)
    {
        if (operand.IsBf16)
        {
            return operand;
        }

        TypedPointer rounded = (ushort*)target;
        convert.Convert(rounded, operand, n);
        return rounded;
    }

    private static long Align(long floats) => (floats + Alignment - 1) / Alignment * Alignment;

    private static void AddBiasKernel(ArrayView<float> output, ArrayView<float> bias, int oc, long n)
    {
        for (long i = KernelMath.ThreadIndex; i < n; i += KernelMath.ThreadCount)
        {
            output[i] += bias[i % oc];
        }
    }

    // partials[chunk, j] = the sum of dout[r, j] over the chunk's rows: four accumulators over
    // interleaved rows, so four loads are in flight rather than a chain of one, in a fixed order.
    private static void BiasPartialsKernel(ArrayView<float> partials, ArrayView<float> dout, int rows, int oc, int chunkRows)
    {
        int total = (int)partials.Length;
        for (int i = KernelMath.ThreadIndex; i < total; i += KernelMath.ThreadCount)
        {
            int chunk = i / oc, j = i - (chunk * oc);
            int end = Math.Min(rows, (chunk + 1) * chunkRows);
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            int r = chunk * chunkRows;
            for (; r + 3 < end; r += 4)
            {
                a0 += dout[((long)r * oc) + j];
                a1 += dout[((long)(r + 1) * oc) + j];
                a2 += dout[((long)(r + 2) * oc) + j];
                a3 += dout[((long)(r + 3) * oc) + j];
            }

            for (; r < end; r++)
            {
                a0 += dout[((long)r * oc) + j];
            }

            partials[i] = (a0 + a1) + (a2 + a3);
        }
    }
}
