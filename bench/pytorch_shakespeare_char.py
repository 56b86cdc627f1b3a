#!/usr/bin/python3
"""nanoGPT's CPU quick-start on Tiny Shakespeare (char-level), in PyTorch: the yardstick for
`sharpgpt train` with no arguments (same model, same settings).

  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 \
      /usr/bin/python3 bench/pytorch_shakespeare_char.py --threads 2

Settings (nanoGPT config/train_shakespeare_char.py with its CPU overrides): 4 layers, 4 heads,
128 dims, block 64, batch 12, 2000 iterations, AdamW lr 1e-3 -> 1e-4 (cosine, 100 warm-up),
betas 0.9/0.99, weight decay 0.1 on matrices and embeddings, grad clip 1.0, no dropout, fp32.
Batches are random windows of the first 90% of the text, as nanoGPT samples them. The
training time excludes evaluation; at the end the loss over the whole validation split
(non-overlapping windows, as sharpgpt measures it) is printed, then a JSON line.
See bench/pytorch_train_step.py for BLAS and allocator notes (use OpenBLAS and tcmalloc).
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reference"))
from gpt2_reference import GPT, Config  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "tinyshakespeare.txt"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1337)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    text = open(args.data, encoding="utf-8").read()
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text], dtype=torch.long)
    n = int(0.9 * len(ids))
    train, val = ids[:n], ids[n:]
    B, T = 12, 64
    model = GPT(Config(T, len(chars), 4, 4, 128), init_seed=args.seed)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99), eps=1e-8)

    def lr_at(it, warmup=100, max_lr=1e-3, min_lr=1e-4):
        if it < warmup:
            return max_lr * (it + 1) / warmup
        ratio = (it - warmup) / max(1, args.steps - warmup)
        return min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (max_lr - min_lr)

    start = time.perf_counter()
    for it in range(args.steps):
        ix = torch.randint(len(train) - T - 1, (B,))
        x = torch.stack([train[i:i + T] for i in ix])
        y = torch.stack([train[i + 1:i + T + 1] for i in ix])
        for group in opt.param_groups:
            group["lr"] = lr_at(it)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if it % 100 == 0 or it == args.steps - 1:
            print(f"step {it + 1}: loss {loss.item():.4f} ({time.perf_counter() - start:.1f} s)", flush=True)
    seconds = time.perf_counter() - start

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        windows = (len(val) - 1) // (B * T)
        for w in range(windows):
            chunk = val[w * B * T: (w + 1) * B * T + 1]
            x, y = chunk[:-1].view(B, T), chunk[1:].view(B, T)
            logits, _ = model(x)
            total += F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1), reduction="sum").item()
            count += y.numel()
    print(json.dumps({"train_seconds": round(seconds, 1), "val_loss": round(total / count, 4), "steps": args.steps,
                      "threads": args.threads, "tcmalloc": "tcmalloc" in os.environ.get("LD_PRELOAD", "")}))


if __name__ == "__main__":
    main()
