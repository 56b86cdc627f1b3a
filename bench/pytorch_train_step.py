#!/usr/bin/python3
"""PyTorch CPU training-step benchmark, the yardstick for SharpGPT's own timings.

  /usr/bin/python3 bench/pytorch_train_step.py --preset gpt2-124m \
      --batch 4 --seq 64 --steps 5 --threads 2 --dtype fp32

Model: the GPT-2 of gpt2_reference.py (same code), GPT-2 init, vocabulary 50257
(not padded; pass --pad-vocab to compute logits over 50304 rows as llm.c does).
Presets: gpt2-124m (L=12, H=12, C=768, maxT=1024), small6 (L=6, H=6, C=384,
maxT=1024). Batches are random tokens. A step is forward + cross-entropy,
backward, torch.optim.AdamW step (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on
the matrices and embeddings, none on biases and LayerNorm; PyTorch's per-tensor
for-loop implementation: foreach off, not fused), zero_grad(set_to_none). Two
warm-up steps are not timed. --dtype bf16 runs forward and loss under
torch.autocast('cpu', dtype=torch.bfloat16); the weights, gradients and
optimizer stay fp32. On CPUs without AVX-512 BF16 / AMX (this machine: an AMD
EPYC with AVX2 only) PyTorch 1.13 emulates bf16 and a step is some 50x slower
than fp32, so bf16 figures from such a machine are not a useful baseline.

Prints one line per step and, last, a JSON line:
  {"ms_per_step": <median>, "tokens_per_s": <B*T / median>, ...}

Allocator: glibc malloc is slow for PyTorch's large short-lived CPU tensors. If
libtcmalloc_minimal.so.4 exists (Debian: libtcmalloc-minimal4, or
libgoogle-perftools4), the caller may preload it; this script does not:
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 /usr/bin/python3 ...
The JSON line records whether it was preloaded.

BLAS: Debian's PyTorch 1.13 does its matrix products through libblas.so.3, which
by default is the reference (netlib) BLAS: single-threaded, about 30-40x slower
here (gpt2-124m B=4 T=64: ~110-150 s/step instead of ~2-4 s). For a fair
baseline, use OpenBLAS without changing the system default: extract Debian's
libopenblas0-openmp package and put its folder first on the library path:
  apt-get download libopenblas0-openmp && dpkg -x libopenblas0-openmp_*.deb /tmp/openblas
  LD_LIBRARY_PATH=/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 ...
The JSON line records which BLAS was loaded.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reference"))
from gpt2_reference import GPT, Config, padded_vocab  # noqa: E402

PRESETS = {
    "gpt2-124m": dict(n_layer=12, n_head=12, n_embd=768, block_size=1024),
    "small6": dict(n_layer=6, n_head=6, n_embd=384, block_size=1024),
}
VOCAB = 50257


def loaded_blas():
    """Path of the BLAS library this process mapped (Debian's torch uses libblas.so.3)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line}
        return sorted(paths)[0] if paths else "?"
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="gpt2-124m")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5, help="timed steps (after 2 warm-up steps)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--pad-vocab", action="store_true", help="vocabulary rows padded to 50304")
    ap.add_argument("--foreach", action="store_true", help="AdamW foreach=True (multi-tensor)")
    ap.add_argument("--seed", type=int, default=1337)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    vocab = padded_vocab(VOCAB) if args.pad_vocab else VOCAB
    cfg = Config(vocab_size=vocab, **PRESETS[args.preset])
    if args.seq > cfg.block_size:
        sys.exit(f"--seq {args.seq} exceeds block size {cfg.block_size}")
    model = GPT(cfg, init_seed=args.seed)
    model.train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=6e-4, betas=(0.9, 0.95), eps=1e-8, foreach=args.foreach)
    n_params = sum(p.numel() for p in model.parameters())

    gen = torch.Generator().manual_seed(args.seed + 1)

    def batch():
        tok = torch.randint(0, VOCAB, (args.batch, args.seq + 1), generator=gen)
        return tok[:, :-1], tok[:, 1:]

    def step(x, y):
        if args.dtype == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits, _ = model(x)
                loss = F.cross_entropy(logits.float().view(-1, vocab), y.reshape(-1))
        else:
            _, loss = model(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    preload = os.environ.get("LD_PRELOAD", "")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {args.preset} "
          f"({n_params / 1e6:.1f}M params, vocab {vocab}), B={args.batch} T={args.seq} "
          f"{args.dtype}, LD_PRELOAD={preload or '-'}, BLAS {loaded_blas()}", flush=True)
    times = []
    for i in range(args.warmup + args.steps):
        x, y = batch()
        t0 = time.perf_counter()
        loss = step(x, y)
        dt = time.perf_counter() - t0
        tag = "warmup" if i < args.warmup else "step"
        if i >= args.warmup:
            times.append(dt)
        print(f"{tag} {i}: loss {loss:.4f}  {dt * 1000:.1f} ms", flush=True)

    med = statistics.median(times)
    print(json.dumps({"ms_per_step": round(med * 1000, 2),
                      "tokens_per_s": round(args.batch * args.seq / med, 1),
                      "min_ms": round(min(times) * 1000, 2), "preset": args.preset,
                      "B": args.batch, "T": args.seq, "dtype": args.dtype,
                      "threads": torch.get_num_threads(), "steps": args.steps,
                      "vocab": vocab, "tcmalloc": "tcmalloc" in preload, "blas": loaded_blas(),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
