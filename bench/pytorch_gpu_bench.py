#!/usr/bin/env python3
"""GPT-2 124M training steps in PyTorch on a GPU, as build-nanogpt trains it: the yardstick for
`sharpgpt gpu-check`'s bench, run by tools/gpu/device-check.sh on the same GPU and batch.

  python3 bench/pytorch_gpu_bench.py --batch 16 --seq 1024 --steps 10

The model is build-nanogpt's GPT (12 layers, 12 heads, 768 dims, vocabulary padded to 50304, tied
lm_head, GPT-2 init); attention is F.scaled_dot_product_attention(is_causal=True) (flash); the
forward and loss run under torch.autocast(bfloat16); AdamW is fused (betas 0.9/0.95, eps 1e-8,
weight decay 0.1 on matrices and embeddings); the model is torch.compile'd (--no-compile to skip)
and TF32 is allowed for fp32 matmuls (torch.set_float32_matmul_precision('high')), as build-nanogpt
does. Batches are random tokens. A step is forward, loss, backward, clip to 1.0, optimizer step,
zero_grad, then torch.cuda.synchronize(). The warm-up steps (compilation) are not timed.

Prints one line per step and, last, a JSON line: ms_per_step (median), tokens_per_s, peak memory
(torch.cuda.max_memory_allocated), model TFLOP/s by the same 6N + 12LCT estimate SharpGPT uses, and
MFU against the dense bf16 peak where the device is one of SharpGPT's table (H100/H200 SXM: 989).
--device cpu runs a shrunken model to check the script itself without a GPU.
"""

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PEAKS = [("H200", 132, 989.4), ("H100", 132, 989.4), ("H100", 114, 756.0), ("A100", 108, 312.0)]


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(n_embd)
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.c_proj.SCALE_INIT = 1
        self.ln_2 = nn.LayerNorm(n_embd)
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.mlp_proj = nn.Linear(4 * n_embd, n_embd)
        self.mlp_proj.SCALE_INIT = 1

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch < 2.0 (the CPU self-check on an old torch): the same attention, unfused
            att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
            att = att.masked_fill(torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1), float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, n_layer, n_head, n_embd, block_size, vocab_size):
        super().__init__()
        self.n_layer = n_layer
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.h = nn.ModuleList(Block(n_embd, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight
        self.apply(self._init)

    def _init(self, module):
        if isinstance(module, nn.Linear):
            std = 0.02 * ((2 * self.n_layer) ** -0.5 if hasattr(module, "SCALE_INIT") else 1.0)
            torch.nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        pos = torch.arange(idx.size(1), device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps (torch.compile compiles in the first)")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = ap.parse_args()

    torch.manual_seed(1337)
    shape = dict(n_layer=12, n_head=12, n_embd=768, block_size=1024, vocab_size=50304)
    if args.device == "cpu":
        shape = dict(n_layer=2, n_head=2, n_embd=32, block_size=64, vocab_size=128)
    torch.set_float32_matmul_precision("high")
    model = GPT(**shape).to(args.device)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=6e-4, betas=(0.9, 0.95), eps=1e-8, **({"fused": True} if args.device == "cuda" else {}))
    step_model = model if args.no_compile else torch.compile(model)

    def step(x, y):
        with torch.autocast(device_type=args.device, dtype=torch.bfloat16):
            loss = step_model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if args.device == "cuda":
            torch.cuda.synchronize()
        return loss.item()

    b, t, vocab = args.batch, min(args.seq, shape["block_size"]), shape["vocab_size"]
    name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    sms = torch.cuda.get_device_properties(0).multi_processor_count if args.device == "cuda" else 0
    print(f"torch {torch.__version__}, {name} ({sms} SMs), {n_params / 1e6:.1f}M params, B={b} T={t}, bf16 autocast, "
          f"{'eager' if args.no_compile else 'torch.compile'}", flush=True)
    times = []
    for i in range(args.warmup + args.steps):
        tokens = torch.randint(0, 50257 if vocab > 50257 else vocab, (b, t + 1), device=args.device)
        t0 = time.perf_counter()
        loss = step(tokens[:, :-1], tokens[:, 1:])
        dt = time.perf_counter() - t0
        if i >= args.warmup:
            times.append(dt)
        print(f"{'warmup' if i < args.warmup else 'step'} {i}: loss {loss:.4f}  {dt * 1000:.1f} ms", flush=True)

    median = statistics.median(times)
    unpadded = n_params - (vocab - 50257) * shape["n_embd"] if vocab > 50257 else n_params
    flops = (6 * unpadded + 12 * shape["n_layer"] * shape["n_embd"] * t) * b * t
    peak = next((p for n, s, p in PEAKS if n in name and s == sms), None)
    tflops = flops / median / 1e12
    print(json.dumps({
        "device": name, "sms": sms, "torch": torch.__version__, "compiled": not args.no_compile,
        "batch": b, "seq": t, "ms_per_step": round(median * 1000, 2), "tokens_per_s": round(b * t / median, 1),
        "min_ms": round(min(times) * 1000, 2),
        "peak_memory_bytes": torch.cuda.max_memory_allocated() if args.device == "cuda" else None,
        "model_tflops": round(tflops, 2), "peak_tflops": peak,
        "mfu": round(tflops / peak, 4) if peak else None,
    }))


if __name__ == "__main__":
    main()
