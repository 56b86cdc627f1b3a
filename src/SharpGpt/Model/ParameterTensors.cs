namespace SharpGpt.Model;

/// <summary>Named pointers into a buffer laid out by <see cref="ParameterLayout"/> (parameters, gradients or moments).</summary>
internal readonly unsafe struct ParameterTensors
{
    public ParameterTensors(float* baseAddress, ParameterLayout layout)
    {
        var o = layout.Offsets;
        Wte = baseAddress + o[0];
        Wpe = baseAddress + o[1];
        Ln1W = baseAddress + o[2];
        Ln1B = baseAddress + o[3];
        QkvW = baseAddress + o[4];
        QkvB = baseAddress + o[5];
        AttProjW = baseAddress + o[6];
        AttProjB = baseAddress + o[7];
        Ln2W = baseAddress + o[8];
        Ln2B = baseAddress + o[9];
        FcW = baseAddress + o[10];
        FcB = baseAddress + o[11];
        FcProjW = baseAddress + o[12];
        FcProjB = baseAddress + o[13];
        LnFW = baseAddress + o[14];
        LnFB = baseAddress + o[15];
    }

    public float* Wte { get; }      // (Vp, C), also the lm_head
    public float* Wpe { get; }      // (maxT, C)
    public float* Ln1W { get; }     // (L, C)
    public float* Ln1B { get; }     // (L, C)
    public float* QkvW { get; }     // (L, 3C, C)
    public float* QkvB { get; }     // (L, 3C)
    public float* AttProjW { get; } // (L, C, C)
    public float* AttProjB { get; } // (L, C)
    public float* Ln2W { get; }     // (L, C)
    public float* Ln2B { get; }     // (L, C)
    public float* FcW { get; }      // (L, 4C, C)
    public float* FcB { get; }      // (L, 4C)
    public float* FcProjW { get; }  // (L, C, 4C)
    public float* FcProjB { get; }  // (L, C)
    public float* LnFW { get; }     // (C)
    public float* LnFB { get; }     // (C)
}
