using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace SharpGpt.Kernels;

/// <summary>
/// Causal multi-head self-attention that never materialises a long sequence's (T, T) score matrix (FlashAttention-2
/// on the CPU). The forward walks the keys of each query tile in chunks with an online softmax and saves
/// only the log-sum-exp of each row, so its state is (B, NH, T) rather than (B, NH, T, T). The backward
/// recomputes the probabilities tile by tile from q, k and that log-sum-exp. Short sequences (up to
/// <see cref="ShortSequenceLimit"/>) take a backward that holds one head's P and dS whole, at most
/// 64 x 64 floats per worker: fewer, deeper products than tiles of 16 and no transposes of the results.
/// <para>
/// Every tile product is C (R x N) = A (R x K) · B (K x N) with A read by scalar broadcast (any layout,
/// any stride) and B and C read as vectors along N, so the vectorised dimension is always a tile of
/// tokens (a multiple of the vector width) or a head zero-padded to whole vectors (odd head sizes read padded copies of K and V rows).
/// </para>
/// </summary>
internal static unsafe class FlashAttention
{
    /// <summary>Query and key tile (rows and columns of a score tile): 32 x 64 floats of k or v is 8 KiB, so a tile pair's working set stays in L1/L2.</summary>
    public const int DefaultTile = 32;

    /// <summary>The tile for short sequences: at T = 64 half-masked diagonal tiles of 32 waste a third of
    /// the work, and tiles of 16 make the backward about 7% faster.</summary>
    public const int ShortSequenceTile = 16;

    /// <summary>The tile the tiled backward uses when the caller passes none (0).</summary>
    public static int TileFor(int t) => t <= 64 ? ShortSequenceTile : DefaultTile;

    /// <summary>The query tile the forward uses when the caller passes none (0): a sequence of up to
    /// <see cref="ShortSequenceLimit"/> positions is one tile (its few products run deeper; 7-8% faster at
    /// T = 64 than tiles of 16), longer ones the default tile.</summary>
    public static int ForwardTileFor(int t) => t <= ShortSequenceLimit ? Pad(t) : DefaultTile;

    /// <summary>Most keys that one forward pass over a query tile covers; longer sequences take several, with an online softmax.</summary>
    private const int KeyChunk = 256;

    /// <summary>Most query rows that one backward pass over a key tile covers: the rows' q, dO, P and dS stay in L1.</summary>
    private const int QueryChunk = 64;

    private const int StackScratchLimit = 32 * 1024; // floats; larger forward scratch comes from the native heap

    private struct Args
    {
        public float* Out, Lse, Qkv, DQkv, DOut, Scratch;
        public int B, T, C, NH, Tile, Tiles, Next;

        /// <summary>The backward's work on one (batch, head) in a worker's scratch block of PartFloats floats.</summary>
        public delegate*<Args*, int, float*, void> Head;
        public long PartFloats;
    }

    /// <summary>Floats of saved state per layer: the log-sum-exp of every row, (B, NH, T).</summary>
    public static long StateSize(int b, int t, int nh) => (long)b * nh * t;

    /// <summary>Floats of backward scratch: a block for each worker thread, of which there are at most as many as (batch, head) parts; linear in T.</summary>
    public static long ScratchSize(int b, int t, int c, int nh, int tile = 0)
        => (long)b * nh * PartFloats(t, c, nh, tile);

    // out (B,T,C), lse (B,NH,T) <- qkv (B,T,3C) with q, k, v each split into NH heads of C/NH
    public static void Forward(ParallelRunner runner, float* output, float* lse, float* qkv, int b, int t, int c, int nh, int tile = 0)
    {
        tile = tile == 0 ? ForwardTileFor(t) : tile;
        int tiles = (t + CheckTile(tile) - 1) / tile;
        var args = new Args { Out = output, Lse = lse, Qkv = qkv, B = b, T = t, C = c, NH = nh, Tile = tile, Tiles = tiles };
        runner.For(b * nh * tiles, &ForwardTile, &args);
    }

    // dqkv (B,T,3C) = <- dout (B,T,C), qkv (B,T,3C), out (B,T,C), lse (B,NH,T); overwrites dqkv; scratch: ScratchSize floats.
    // With no tile given, sequences of up to ShortSequenceLimit positions take the whole-head backward.
    public static void Backward(ParallelRunner runner, float* dqkv, float* scratch, float* dout, float* qkv, float* output, float* lse,
        int b, int t, int c, int nh, int tile = 0)
    {
        var args = new Args { DQkv = dqkv, Scratch = scratch, DOut = dout, Qkv = qkv, Out = output, Lse = lse, B = b, T = t, C = c, NH = nh, PartFloats = PartFloats(t, c, nh, tile) };
        if (UsesWholeHeadBackward(t, c, nh, tile))
        {
            args.Head = &BackwardShortHead;
        }
        else
        {
            args.Tile = tile == 0 ? TileFor(t) : tile;
            args.Tiles = (t + args.Tile - 1) / args.Tile;
            args.Head = &BackwardHead;
        }

        runner.For(Math.Min(runner.Threads, b * nh), &BackwardWorker, &args);
    }

    /// <summary>Sequences of at most this many positions take the whole-head backward when no tile is given: a head's P and dS fit in scratch as (query, key) rows.</summary>
    public const int ShortSequenceLimit = 64;

    /// <summary>Whether <see cref="Backward"/> takes the whole-head path: no tile given, T up to <see cref="ShortSequenceLimit"/>, heads of whole vectors (the results are written as vectors straight into dqkv's rows).</summary>
    internal static bool UsesWholeHeadBackward(int t, int c, int nh, int tile) => tile == 0 && t <= ShortSequenceLimit && (c / nh) % Vector<float>.Count == 0;

    /// <summary>Floats of one worker's backward scratch block, for the path <see cref="Backward"/> takes with this tile.</summary>
    private static long PartFloats(int t, int c, int nh, int tile) => UsesWholeHeadBackward(t, c, nh, tile)
        ? ShortPartFloats(t, c / nh)
        : BackwardPartFloats(t, c / nh, CheckTile(tile == 0 ? TileFor(t) : tile));

    private static long ShortPartFloats(int t, int hs)
    {
        int tp = Pad(t);
        return (2L * Align((long)hs * tp)) + (2L * Align((long)t * tp)) + Align(t);
    }

    /// <summary>
    /// One (batch, head) of a short sequence with the whole (T, Tp) P and dS in scratch: S and dP row
    /// block by row block (four queries up to their last visible key's vector), dS = scale P (dP - D);
    /// then dV = Pt dO and dK = dSt Q a block of four keys at a time over the queries from the block on,
    /// and dQ = dS K over the visible keys, each written straight into its rows of dqkv.
    /// </summary>
    private static void BackwardShortHead(Args* a, int part, float* scratch)
    {
        int t = a->T, c = a->C, nh = a->NH, hs = c / nh, c3 = 3 * c, w = Vector<float>.Count, tp = Pad(t);
        float scale = 1f / MathF.Sqrt(hs);
        float* kt = scratch, vt = kt + Align((long)hs * tp), pm = vt + Align((long)hs * tp), ds = pm + Align((long)t * tp), dd = ds + Align((long)t * tp);
        var head = new HeadSlices(a, part, dd);
        float* q = head.Q, k = head.K, v = head.V, dqOut = head.DQ, dkOut = head.DK, dvOut = head.DV, dout = head.DOut, lse = head.Lse;

        if (tp != t)
        {
            new Span<float>(kt, hs * tp).Clear();
            new Span<float>(vt, hs * tp).Clear();
        }

        Transpose(kt, tp, k, c3, t, hs);
        Transpose(vt, tp, v, c3, t, hs);
        var vscale = new Vector<float>(scale);
        var iota = IndicesF();
        for (int r0 = 0; r0 < t; r0 += 4)
        {
            int rows = Math.Min(4, t - r0), n = Pad(r0 + rows);
            float* pr0 = pm + (r0 * tp), dr0 = ds + (r0 * tp);
            TileProduct(pr0, tp, q + ((long)r0 * c3), c3, 1, kt, tp, rows, hs, n, accumulate: false);
            TileProduct(dr0, tp, dout + ((long)r0 * c), c, 1, vt, tp, rows, hs, n, accumulate: false);
            for (int r = 0; r < rows; r++)
            {
                float* pr = pr0 + (r * tp), dr = dr0 + (r * tp);
                int x = r0 + r;
                var lr = new Vector<float>(lse[x]);
                var drow = new Vector<float>(dd[x]);
                for (int cc = 0; cc < n; cc += w)
                {
                    var pv = VectorMath.Exp((Vector.Load(pr + cc) * vscale) - lr);
                    if (cc + w - 1 > x)
                    {
                        pv = Vector.ConditionalSelect(Vector.GreaterThan(iota, new Vector<float>(x - cc)), Vector<float>.Zero, pv);
                    }

                    pv.Store(pr + cc);
                    (pv * (Vector.Load(dr + cc) - drow) * vscale).Store(dr + cc);
                }
            }
        }

        // dV (keys, hs) = Pt dO and dK = dSt Q: keys j0.. j0+3 over queries from j0 on (P and dS are zero above the diagonal)
        for (int j0 = 0; j0 < t; j0 += 4)
        {
            int rows = Math.Min(4, t - j0);
            TileProduct(dvOut + ((long)j0 * c3), c3, pm + (j0 * tp) + j0, 1, tp, dout + ((long)j0 * c), c, rows, t - j0, hs, accumulate: false);
            TileProduct(dkOut + ((long)j0 * c3), c3, ds + (j0 * tp) + j0, 1, tp, q + ((long)j0 * c3), c3, rows, t - j0, hs, accumulate: false);
        }

        // dQ (queries, hs) = dS K over the visible keys
        for (int i0 = 0; i0 < t; i0 += 4)
        {
            int rows = Math.Min(4, t - i0);
            TileProduct(dqOut + ((long)i0 * c3), c3, ds + (i0 * tp), tp, 1, k, c3, rows, i0 + rows, hs, accumulate: false);
        }
    }

    private static int CheckTile(int tile)
    {
        if (tile <= 0 || tile % Vector<float>.Count != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(tile), tile, $"The tile must be a positive multiple of the vector width ({Vector<float>.Count}).");
        }

        return tile;
    }

    private static int Pad(int n) => (n + Vector<float>.Count - 1) / Vector<float>.Count * Vector<float>.Count;

    private static int Align(long floats) => checked((int)((floats + 15) & ~15L)); // 64-byte multiples

    private static long BackwardPartFloats(int t, int hs, int tile)
    {
        int hsp = Pad(hs);
        return Align((long)t * hsp) + Align(t) + (4L * Align((long)hs * tile)) + Align((long)tile * hsp) + (2L * Align((long)ChunkFor(QueryChunk, t, tile) * tile));
    }

    /// <summary>Keys or queries per pass over a tile: a multiple of the tile, at most the chunk (or one tile), at most the sequence.</summary>
    private static int ChunkFor(int chunk, int t, int tile) => Math.Min((t + tile - 1) / tile, Math.Max(1, chunk / tile)) * tile;

    /// <summary>
    /// One query tile of one head. Scores are kept transposed, St (key, query) = K · Qt, so that the softmax
    /// statistics of a query row live in one vector lane; O (query, dim) = P · V then reads P by broadcast.
    /// Keys come in chunks of up to <see cref="KeyChunk"/> (all of them for short sequences, so the softmax
    /// needs no rescaling). On the diagonal, products skip what the causal mask hides: key vectors after
    /// a query vector in St, keys after each group of four queries in P · V. The largest (latest) query
    /// tiles are handed out first.
    /// </summary>
    [SkipLocalsInit]
    private static void ForwardTile(int part, void* p)
    {
        var a = (Args*)p;
        int hs = a->C / a->NH, hsp = Pad(hs), bt = a->Tile, kc = ChunkFor(KeyChunk, a->T, bt);

        // Qt (hs, bt), St (kc, bt), O (bt, hsp), running max, running sum and rescale factor (bt each), V padded to whole vectors (kc, hsp)
        int floats = (hs * bt) + (kc * bt) + (bt * hsp) + (3 * bt) + (hs == hsp ? 0 : kc * hsp);
        if (floats <= StackScratchLimit)
        {
            float* buffer = stackalloc float[floats];
            ForwardTile(a, part, buffer, kc);
            return;
        }

        float* heap = (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
        try
        {
            ForwardTile(a, part, heap, kc);
        }
        finally
        {
            NativeMemory.AlignedFree(heap);
        }
    }

    private static void ForwardTile(Args* a, int part, float* buffer, int kc)
    {
        int t = a->T, c = a->C, nh = a->NH, hs = c / nh, hsp = Pad(hs), c3 = 3 * c, bt = a->Tile, w = Vector<float>.Count;
        int heads = a->B * nh;
        int i = a->Tiles - 1 - (part / heads), bh = part % heads, b = bh / nh, h = bh % nh;
        int r0 = i * bt, rows = Math.Min(bt, t - r0), kend = r0 + rows;
        float scale = 1f / MathF.Sqrt(hs);
        float* qt = buffer, st = qt + (hs * bt), ov = st + (kc * bt), m = ov + (bt * hsp), l = m + bt, alpha = l + bt, vp = alpha + bt;
        float* q = a->Qkv + ((long)b * t * c3) + (h * hs), k = q + c, v = q + (2 * c);

        if (rows < bt)
        {
            new Span<float>(qt, hs * bt).Clear();
        }

        Transpose(qt, bt, q + ((long)r0 * c3), c3, rows, hs);
        Scale(qt, hs * bt, scale);

        new Span<float>(m, bt).Fill(float.NegativeInfinity);
        new Span<float>(l, bt).Clear();
        var iota = IndicesF();
        for (int k0 = 0; k0 < kend; k0 += kc)
        {
            // Chunks are tile aligned, so the diagonal tile lies in the last one, from row dr on.
            int kn = Math.Min(kc, kend - k0), dr = r0 - k0, before = Math.Min(kn, dr);
            float* kj = k + ((long)k0 * c3), vj = v + ((long)k0 * c3);
            nint ldv = c3;
            if (hs != hsp)
            {
                // Rows of V read as vectors must not run into the next head.
                for (int kk = 0; kk < kn; kk++)
                {
                    new Span<float>(vj + ((long)kk * c3), hs).CopyTo(new Span<float>(vp + (kk * hsp), hs));
                    new Span<float>(vp + (kk * hsp) + hs, hsp - hs).Clear();
                }

                vj = vp;
                ldv = hsp;
            }

            // St (kn, bt) = K (kn, hs) · Qt (hs, bt), scaled through Qt; the diagonal's key vector s only for query vectors from s on
            TileProduct(st, bt, kj, c3, 1, qt, bt, before, hs, bt, accumulate: false);
            for (int s = 0; dr + s < kn; s += w)
            {
                TileProduct(st + ((dr + s) * bt) + s, bt, kj + ((long)(dr + s) * c3), c3, 1, qt + s, bt, Math.Min(w, kn - dr - s), hs, bt - s, accumulate: false);
            }

            // Key x of the diagonal tile is visible to query y only if x <= y.
            for (int x = 1; dr + x < kn; x++)
            {
                float* sv = st + ((dr + x) * bt) + (x / w * w);
                Vector.ConditionalSelect(Vector.LessThan(iota, new Vector<float>(x % w)), new Vector<float>(float.NegativeInfinity), Vector.Load(sv)).Store(sv);
            }

            // Online softmax, one query per lane: m' = max(m, max_c s), P = exp(s - m'), l' = l e^(m - m') + sum_c P
            for (int rv = 0; rv < bt; rv += w)
            {
                int keys = Math.Min(kn, dr + rv + w);
                var mOld = Vector.Load(m + rv);
                var mx = mOld;
                for (int cc = 0; cc < keys; cc++)
                {
                    mx = Vector.MaxNative(mx, Vector.Load(st + (cc * bt) + rv));
                }

                var sum = Vector<float>.Zero;
                for (int cc = 0; cc < keys; cc++)
                {
                    var e = VectorMath.Exp(Vector.Load(st + (cc * bt) + rv) - mx);
                    e.Store(st + (cc * bt) + rv);
                    sum += e;
                }

                var scaleOld = VectorMath.Exp(mOld - mx); // 0 on the first chunk, where mOld = -inf
                Vector.FusedMultiplyAdd(Vector.Load(l + rv), scaleOld, sum).Store(l + rv);
                mx.Store(m + rv);
                scaleOld.Store(alpha + rv);
            }

            // O (bt, hsp) = diag(alpha) O + P (bt, kn) · V (kn, hsp), each group of four queries up to its last key
            if (k0 > 0)
            {
                for (int r = 0; r < rows; r++)
                {
                    Scale(ov + (r * hsp), hsp, alpha[r]);
                }
            }

            if (dr >= kn)
            {
                TileProduct(ov, hsp, st, 1, bt, vj, ldv, rows, kn, hsp, accumulate: k0 > 0);
                continue;
            }

            for (int g = 0; g < rows; g += 4)
            {
                TileProduct(ov + (g * hsp), hsp, st + g, 1, bt, vj, ldv, Math.Min(4, rows - g), Math.Min(kn, dr + g + 4), hsp, accumulate: k0 > 0);
            }
        }

        // lse = m + log l;  O (rows, hs) = diag(1 / l) O
        float* lse = a->Lse + ((long)bh * t) + r0;
        float* o = a->Out + ((long)b * t * c) + ((long)r0 * c) + (h * hs);
        for (int rv = 0; rv < rows; rv += w)
        {
            var lv = Vector.Load(l + rv);
            (Vector<float>.One / lv).Store(alpha + rv);
            (Vector.Load(m + rv) + Vector.Log(lv)).Store(m + rv);
        }

        new Span<float>(m, rows).CopyTo(new Span<float>(lse, rows));
        for (int r = 0; r < rows; r++)
        {
            float* orow = ov + (r * hsp), dst = o + ((long)r * c);
            var inv = new Vector<float>(alpha[r]);
            int d = 0;
            for (; d + w <= hs; d += w)
            {
                (Vector.Load(orow + d) * inv).Store(dst + d);
            }

            for (; d < hs; d++)
            {
                dst[d] = orow[d] * alpha[r];
            }
        }
    }

    /// <summary>
    /// Claims (batch, head) parts until none is left, each in this worker's block of scratch: one block
    /// per thread rather than per part stays in cache from one head to the next (a block per part
    /// touched fresh memory for every head).
    /// </summary>
    private static void BackwardWorker(int slot, void* p)
    {
        var a = (Args*)p;
        float* scratch = a->Scratch + (slot * a->PartFloats);
        int part;
        while ((part = Interlocked.Increment(ref a->Next) - 1) < a->B * a->NH)
        {
            a->Head(a, part, scratch);
        }
    }

    /// <summary>
    /// One (batch, head): key tiles outside; inside, all the query rows from the key tile's diagonal down
    /// in chunks of up to <see cref="QueryChunk"/>, so each product runs deep over many rows. dK and dV of a key
    /// tile accumulate in two tiles and dQ of the whole head in this part's scratch. On the diagonal the
    /// first vector of queries sees only the first vector of keys: those rows skip the rest. The part owns
    /// its head's slices of dqkv and writes each element once: deterministic, no clearing needed.
    /// </summary>
    private static void BackwardHead(Args* a, int part, float* scratch)
    {
        int t = a->T, c = a->C, nh = a->NH, hs = c / nh, c3 = 3 * c, bt = a->Tile, w = Vector<float>.Count;
        int hsp = Pad(hs), qc = ChunkFor(QueryChunk, t, bt);
        float scale = 1f / MathF.Sqrt(hs);

        // dQ (T, hsp), D (T), Kt, Vt, dKt, dVt (hs, bt), Kp (bt, hsp), S/P, dP/dS (qc, bt)
        float* dq = scratch;
        float* dd = dq + Align((long)t * hsp);
        float* kt = dd + Align(t), vt = kt + Align(hs * bt), dkt = vt + Align(hs * bt), dvt = dkt + Align(hs * bt);
        float* kp = dvt + Align(hs * bt), sp = kp + Align(bt * hsp), ds = sp + Align(qc * bt);
        var head = new HeadSlices(a, part, dd);
        float* q = head.Q, k = head.K, v = head.V, dqOut = head.DQ, dkOut = head.DK, dvOut = head.DV, dout = head.DOut, lse = head.Lse;

        new Span<float>(dq, t * hsp).Clear();
        var vscale = new Vector<float>(scale);
        var iota = IndicesF();
        for (int j = 0; j < a->Tiles; j++)
        {
            int c0 = j * bt, cols = Math.Min(bt, t - c0);
            if (cols < bt)
            {
                new Span<float>(kt, hs * bt).Clear();
                new Span<float>(vt, hs * bt).Clear();
                new Span<float>(kp, bt * hsp).Clear();
            }

            Transpose(kt, bt, k + ((long)c0 * c3), c3, cols, hs);
            Transpose(vt, bt, v + ((long)c0 * c3), c3, cols, hs);
            for (int cc = 0; cc < cols; cc++)
            {
                float* kr = kp + (cc * hsp);
                new Span<float>(k + ((long)(c0 + cc) * c3), hs).CopyTo(new Span<float>(kr, hs));
                new Span<float>(kr + hs, hsp - hs).Clear();
            }

            new Span<float>(dkt, hs * bt).Clear();
            new Span<float>(dvt, hs * bt).Clear();
            for (int q0 = c0; q0 < t; q0 += qc)
            {
                // The first `lead` rows (the diagonal's first vector of queries) only see the first vector of keys.
                int qn = Math.Min(qc, t - q0), lead = q0 == c0 ? Math.Min(w, qn) : 0, rest = qn - lead;
                float* qi = q + ((long)q0 * c3), doi = dout + ((long)q0 * c), dqi = dq + ((long)q0 * hsp);
                float* spr = sp + (lead * bt), dsr = ds + (lead * bt);

                // S (qn, bt) = Q_i (qn, hs) · Kt_j (hs, bt);  dP (qn, bt) = dO_i (qn, hs) · Vt_j (hs, bt)
                TileProduct(sp, bt, qi, c3, 1, kt, bt, lead, hs, w, accumulate: false);
                TileProduct(ds, bt, doi, c, 1, vt, bt, lead, hs, w, accumulate: false);
                TileProduct(spr, bt, qi + ((long)lead * c3), c3, 1, kt, bt, rest, hs, bt, accumulate: false);
                TileProduct(dsr, bt, doi + ((long)lead * c), c, 1, vt, bt, rest, hs, bt, accumulate: false);

                // P = exp(S scale - L);  dS = P ∘ (dP - D); zero where the key is after the query
                for (int r = 0; r < qn; r++)
                {
                    float* pr = sp + (r * bt), dr = ds + (r * bt);
                    var lr = new Vector<float>(lse[q0 + r]);
                    var drow = new Vector<float>(dd[q0 + r]);
                    int x = q0 + r - c0, end = r < lead ? w : bt;
                    for (int cc = 0; cc < end; cc += w)
                    {
                        var pv = VectorMath.Exp((Vector.Load(pr + cc) * vscale) - lr);
                        if (cc + w - 1 > x)
                        {
                            pv = Vector.ConditionalSelect(Vector.GreaterThan(iota, new Vector<float>(x - cc)), Vector<float>.Zero, pv);
                        }

                        pv.Store(pr + cc);
                        (pv * (Vector.Load(dr + cc) - drow)).Store(dr + cc);
                    }
                }

                // dVt (hs, bt) += dOt_i (hs, qn) · P (qn, bt);  dKt (hs, bt) += Qt_i (hs, qn) · dS (qn, bt)
                TileProduct(dvt, bt, doi, 1, c, sp, bt, hs, lead, w, accumulate: true);
                TileProduct(dkt, bt, qi, 1, c3, ds, bt, hs, lead, w, accumulate: true);
                TileProduct(dvt, bt, doi + ((long)lead * c), 1, c, spr, bt, hs, rest, bt, accumulate: true);
                TileProduct(dkt, bt, qi + ((long)lead * c3), 1, c3, dsr, bt, hs, rest, bt, accumulate: true);

                // dQ_i (qn, hsp) += dS (qn, cols) · K_j (cols, hsp)
                TileProduct(dqi, hsp, ds, bt, 1, kp, hsp, lead, Math.Min(w, cols), hsp, accumulate: true);
                TileProduct(dqi + (lead * hsp), hsp, dsr, bt, 1, kp, hsp, rest, cols, hsp, accumulate: true);
            }

            Scale(dkt, hs * bt, scale);
            Transpose(dkOut + ((long)c0 * c3), c3, dkt, bt, hs, cols);
            Transpose(dvOut + ((long)c0 * c3), c3, dvt, bt, hs, cols);
        }

        Scale(dq, t * hsp, scale);
        for (int i = 0; i < t; i++)
        {
            new Span<float>(dq + ((long)i * hsp), hs).CopyTo(new Span<float>(dqOut + ((long)i * c3), hs));
        }
    }

    /// <summary>
    /// One (batch, head)'s slices for a backward: q, k, v and their gradients in the (B, T, 3C) rows, dO in
    /// the (B, T, C) rows and the head's log-sum-exp; the constructor also writes D_i = dO_i · O_i, the
    /// softmax backward's row term, for every row.
    /// </summary>
    private readonly struct HeadSlices
    {
        public readonly float* Q, K, V, DQ, DK, DV, DOut, Lse;

        public HeadSlices(Args* a, int part, float* rowTerms)
        {
            int t = a->T, c = a->C, hs = c / a->NH, b = part / a->NH, h = part % a->NH;
            long qkv = ((long)b * t * 3 * c) + (h * hs), rows = ((long)b * t * c) + (h * hs);
            Q = a->Qkv + qkv;
            K = Q + c;
            V = Q + (2 * c);
            DQ = a->DQkv + qkv;
            DK = DQ + c;
            DV = DQ + (2 * c);
            DOut = a->DOut + rows;
            Lse = a->Lse + ((long)part * t);
            float* o = a->Out + rows;
            for (int i = 0; i < t; i++)
            {
                rowTerms[i] = Dot(DOut + ((long)i * c), o + ((long)i * c), hs);
            }
        }
    }

    /// <summary>0, 1, ..., w - 1.</summary>
    private static Vector<float> IndicesF() => Vector.ConvertToSingle(Vector<int>.Indices);

    /// <summary>
    /// C (rows, n) (+)= A (rows, depth) · B (depth, n), with A[r, k] at a[r ars + k aks] (broadcast, so any
    /// layout), B and C row-major with leading dimensions ldb and ldc, and n a multiple of the vector width.
    /// Register-blocked 4 rows x 2 vectors: 8 independent FMA chains.
    /// </summary>
    private static void TileProduct(float* cm, nint ldc, float* am, nint ars, nint aks, float* bm, nint ldb, int rows, int depth, int n, bool accumulate)
    {
        int w = Vector<float>.Count;
        int r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            float* ar = am + (r * ars);
            float* cr = cm + (r * ldc);
            int col = 0;
            for (; col + (2 * w) <= n; col += 2 * w)
            {
                Block4x2(cr + col, ldc, ar, ars, aks, bm + col, ldb, depth, accumulate);
            }

            if (col < n)
            {
                Block4x1(cr + col, ldc, ar, ars, aks, bm + col, ldb, depth, accumulate);
            }
        }

        for (; r < rows; r++)
        {
            float* ar = am + (r * ars);
            float* cr = cm + (r * ldc);
            for (int col = 0; col < n; col += w)
            {
                Block1x1(cr + col, ar, aks, bm + col, ldb, depth, accumulate);
            }
        }
    }

    // Strides are nint and the loops run to an end pointer, so that the inner loops address with plain adds and keep every stride in a register.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x2(float* cm, nint ldc, float* a, nint ars, nint aks, float* bm, nint ldb, int depth, bool accumulate)
    {
        nint w = Vector<float>.Count, ars2 = 2 * ars, ars3 = 3 * ars;
        float* c1 = cm + ldc, c2 = cm + (2 * ldc), c3 = cm + (3 * ldc);
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        if (accumulate)
        {
            c00 = Vector.Load(cm);
            c01 = Vector.Load(cm + w);
            c10 = Vector.Load(c1);
            c11 = Vector.Load(c1 + w);
            c20 = Vector.Load(c2);
            c21 = Vector.Load(c2 + w);
            c30 = Vector.Load(c3);
            c31 = Vector.Load(c3 + w);
        }

        for (float* end = bm + (depth * ldb); bm != end; bm += ldb)
        {
            var b0 = Vector.Load(bm);
            var b1 = Vector.Load(bm + w);
            var av = new Vector<float>(a[0]);
            c00 = Vector.FusedMultiplyAdd(av, b0, c00);
            c01 = Vector.FusedMultiplyAdd(av, b1, c01);
            av = new Vector<float>(a[ars]);
            c10 = Vector.FusedMultiplyAdd(av, b0, c10);
            c11 = Vector.FusedMultiplyAdd(av, b1, c11);
            av = new Vector<float>(a[ars2]);
            c20 = Vector.FusedMultiplyAdd(av, b0, c20);
            c21 = Vector.FusedMultiplyAdd(av, b1, c21);
            av = new Vector<float>(a[ars3]);
            c30 = Vector.FusedMultiplyAdd(av, b0, c30);
            c31 = Vector.FusedMultiplyAdd(av, b1, c31);
            a += aks;
        }

        c00.Store(cm);
        c01.Store(cm + w);
        c10.Store(c1);
        c11.Store(c1 + w);
        c20.Store(c2);
        c21.Store(c2 + w);
        c30.Store(c3);
        c31.Store(c3 + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x1(float* cm, nint ldc, float* a, nint ars, nint aks, float* bm, nint ldb, int depth, bool accumulate)
    {
        nint ars2 = 2 * ars, ars3 = 3 * ars;
        float* c1 = cm + ldc, c2 = cm + (2 * ldc), c3 = cm + (3 * ldc);
        Vector<float> c0 = default, v1 = default, v2 = default, v3 = default;
        if (accumulate)
        {
            c0 = Vector.Load(cm);
            v1 = Vector.Load(c1);
            v2 = Vector.Load(c2);
            v3 = Vector.Load(c3);
        }

        for (float* end = bm + (depth * ldb); bm != end; bm += ldb)
        {
            var b0 = Vector.Load(bm);
            c0 = Vector.FusedMultiplyAdd(new Vector<float>(a[0]), b0, c0);
            v1 = Vector.FusedMultiplyAdd(new Vector<float>(a[ars]), b0, v1);
            v2 = Vector.FusedMultiplyAdd(new Vector<float>(a[ars2]), b0, v2);
            v3 = Vector.FusedMultiplyAdd(new Vector<float>(a[ars3]), b0, v3);
            a += aks;
        }

        c0.Store(cm);
        v1.Store(c1);
        v2.Store(c2);
        v3.Store(c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block1x1(float* cm, float* a, nint aks, float* bm, nint ldb, int depth, bool accumulate)
    {
        var c0 = accumulate ? Vector.Load(cm) : Vector<float>.Zero;
        for (float* end = bm + (depth * ldb); bm != end; bm += ldb)
        {
            c0 = Vector.FusedMultiplyAdd(new Vector<float>(*a), Vector.Load(bm), c0);
            a += aks;
        }

        c0.Store(cm);
    }

    /// <summary>x[i] *= s for i &lt; n, n a multiple of the vector width.</summary>
    private static void Scale(float* x, int n, float s)
    {
        var vs = new Vector<float>(s);
        for (int i = 0; i < n; i += Vector<float>.Count)
        {
            (Vector.Load(x + i) * vs).Store(x + i);
        }
    }

    /// <summary>dst[c ldd + r] = src[r lds + c] for r &lt; rows, c &lt; cols: 8 x 8 blocks in registers where AVX is available.</summary>
    private static void Transpose(float* dst, nint ldd, float* src, nint lds, int rows, int cols)
    {
        int r = 0;
        if (Avx.IsSupported)
        {
            for (; r + 8 <= rows; r += 8)
            {
                int c = 0;
                for (; c + 8 <= cols; c += 8)
                {
                    Transpose8x8(dst + (c * ldd) + r, ldd, src + (r * lds) + c, lds);
                }

                for (; c < cols; c++)
                {
                    for (int i = 0; i < 8; i++)
                    {
                        dst[(c * ldd) + r + i] = src[((r + i) * lds) + c];
                    }
                }
            }
        }

        for (; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                dst[(c * ldd) + r] = src[(r * lds) + c];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* dst, nint ldd, float* src, nint lds)
    {
        var t0 = Avx.UnpackLow(Avx.LoadVector256(src), Avx.LoadVector256(src + lds));
        var t1 = Avx.UnpackHigh(Avx.LoadVector256(src), Avx.LoadVector256(src + lds));
        var t2 = Avx.UnpackLow(Avx.LoadVector256(src + (2 * lds)), Avx.LoadVector256(src + (3 * lds)));
        var t3 = Avx.UnpackHigh(Avx.LoadVector256(src + (2 * lds)), Avx.LoadVector256(src + (3 * lds)));
        var t4 = Avx.UnpackLow(Avx.LoadVector256(src + (4 * lds)), Avx.LoadVector256(src + (5 * lds)));
        var t5 = Avx.UnpackHigh(Avx.LoadVector256(src + (4 * lds)), Avx.LoadVector256(src + (5 * lds)));
        var t6 = Avx.UnpackLow(Avx.LoadVector256(src + (6 * lds)), Avx.LoadVector256(src + (7 * lds)));
        var t7 = Avx.UnpackHigh(Avx.LoadVector256(src + (6 * lds)), Avx.LoadVector256(src + (7 * lds)));
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + (2 * ldd), Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + (3 * ldd), Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + (4 * ldd), Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + (5 * ldd), Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + (6 * ldd), Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + (7 * ldd), Avx.Permute2x128(u3, u7, 0x31));
    }

    private static float Dot(float* x, float* y, int n)
    {
        var acc = Vector<float>.Zero;
        int i = 0;
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            acc = Vector.FusedMultiplyAdd(Vector.Load(x + i), Vector.Load(y + i), acc);
        }

        float s = Vector.Sum(acc);
        for (; i < n; i++)
        {
            s += x[i] * y[i];
        }

        return s;
    }
}
