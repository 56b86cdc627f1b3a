#!/usr/bin/python3
"""PyTorch reference for SharpGPT: a GPT-2 whose numbers the C# model must reproduce.

Writes three files in llm.c's formats (llm.c: Karpathy's GPT-2 trainer in C):

  NAME_model.bin   checkpoint: 256 int32 header + every parameter as float32
  NAME_state.bin   debug state: header, inputs, targets, logits, loss, gradients
  NAME_losses.json the loss before each of N llm.c-style AdamW steps on one batch

Run with Debian's interpreter, which has PyTorch 1.13:

  /usr/bin/python3 tools/reference/gpt2_reference.py --out DIR --name NAME \
      --layers L --heads H --embd C --block-size maxT --vocab V \
      --batch B --seq T --steps N --seed S [--mask-fraction F] [--perturb-std S]
      [--examples N]

With --examples N the batch is fine-tuning data instead of random tokens: N
examples (prompt tokens not trained on, answer tokens trained on; see
make_examples), written to NAME_examples.json, packed into rows of T+1 tokens as
SharpGPT's loader documents it (pack_rows), and the first B rows are the batch.
The loss is then cross_entropy(ignore_index=-1) over the answers only.

Formats (all little-endian):

checkpoint header int32[256]: [0]=20240326 [1]=3 (fp32, padded vocab) [2]=maxT [3]=V
  [4]=L [5]=H [6]=C [7]=Vp (V rounded up to a multiple of 128); the rest zero.
  Then float32, in this order (Linear weights are [out, in]; per-layer tensors
  stacked over the layers):
    wte [Vp,C] (rows V..Vp-1 zero)  wpe [maxT,C]  ln1w [L,C]  ln1b [L,C]
    qkvw [L,3C,C]  qkvb [L,3C]  attprojw [L,C,C]  attprojb [L,C]  ln2w [L,C]
    ln2b [L,C]  fcw [L,4C,C]  fcb [L,4C]  fcprojw [L,C,4C]  fcprojb [L,C]
    lnfw [C]  lnfb [C]
  qkvw rows are [q; k; v], each C rows, head h owning rows h*hs..(h+1)*hs-1.

state header int32[256]: [0]=20240327 [1]=2 [2]=B [3]=T; the rest zero. Then
  inputs int32 [B,T], targets int32 [B,T] (-1 = ignored by the loss),
  logits float32 [B,T,V] (unpadded V), loss float32 (mean cross-entropy over the
  targets that are not -1), then the gradient of every parameter with the
  checkpoint's order and shapes (wte's gradient holds the tied lm_head and the
  embedding contributions together, padded with zero rows to Vp).

The AdamW used for the loss trajectory is llm.c's C update, written out by hand
(torch.optim.AdamW decays the weights before the Adam step instead; pass
--torch-adamw to use it for comparison):

  for t = 1, 2, ..., N, for every parameter p with gradient g (all of them:
  embeddings, matrices, biases, LayerNorm), in float32:
    m = beta1*m + (1-beta1)*g
    v = beta2*v + (1-beta2)*g*g
    mhat = m / (1 - beta1^t)
    vhat = v / (1 - beta2^t)
    p = p - lr * (mhat / (sqrt(vhat) + eps) + weight_decay*p)
  with lr=1e-4, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, and m, v
  starting at zero. The constants 1-beta1, 1-beta2, beta^t are formed in float32
  as C does; every operation rounds to float32 on its own (no fused multiply-add).
  Padded wte rows have zero gradient and zero value, so they stay zero.

Everything is deterministic: one thread, float32, torch.manual_seed(seed) for
the weights, a separate generator seeded with seed+1 for the tokens and the mask.
After writing, the files are read back and checked (see check_roundtrip.py).
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MODEL_MAGIC = 20240326
MODEL_VERSION = 3
STATE_MAGIC = 20240327
STATE_VERSION = 2
HEADER_INTS = 256
VOCAB_PADDING = 128

PARAM_NAMES = ["wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
               "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"]

ADAMW = {"lr": 1e-4, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}


def padded_vocab(v):
    return (v + VOCAB_PADDING - 1) // VOCAB_PADDING * VOCAB_PADDING


class Config:
    def __init__(self, block_size, vocab_size, n_layer, n_head, n_embd):
        if n_embd % n_head != 0:
            raise ValueError(f"n_embd {n_embd} is not divisible by n_head {n_head}")
        self.block_size = block_size
        self.vocab_size = vocab_size
        self.n_layer = n_layer
        self.n_head = n_head
        self.n_embd = n_embd

    @property
    def padded_vocab_size(self):
        return padded_vocab(self.vocab_size)

    def as_dict(self):
        return {"block_size": self.block_size, "vocab_size": self.vocab_size,
                "padded_vocab_size": self.padded_vocab_size, "n_layer": self.n_layer,
                "n_head": self.n_head, "n_embd": self.n_embd}

    def param_shapes(self):
        """llm.c's parameter tensors and their shapes (wte padded to Vp)."""
        vp, c, l, t = self.padded_vocab_size, self.n_embd, self.n_layer, self.block_size
        shapes = [(vp, c), (t, c), (l, c), (l, c), (l, 3 * c, c), (l, 3 * c), (l, c, c), (l, c),
                  (l, c), (l, c), (l, 4 * c, c), (l, 4 * c), (l, c, 4 * c), (l, c), (c,), (c,)]
        return list(zip(PARAM_NAMES, shapes))

    def num_parameters(self, padded=True):
        n = sum(int(np.prod(s)) for _, s in self.param_shapes())
        return n if padded else n - (self.padded_vocab_size - self.vocab_size) * self.n_embd


# ----------------------------------------------------------------------------- model

class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)   # fused q, k, v
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        causal = torch.tril(torch.ones(cfg.block_size, cfg.block_size, dtype=torch.bool))
        self.register_buffer("causal", causal, persistent=False)

    def forward(self, x):
        b, t, c = x.shape
        hs = c // self.n_head
        q, k, v = self.c_attn(x).split(c, dim=2)
        q = q.view(b, t, self.n_head, hs).transpose(1, 2)     # [B, H, T, hs]
        k = k.view(b, t, self.n_head, hs).transpose(1, 2)
        v = v.view(b, t, self.n_head, hs).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        scores = scores.masked_fill(~self.causal[:t, :t], float("-inf"))
        y = F.softmax(scores, dim=-1) @ v
        y = y.transpose(1, 2).contiguous().view(b, t, c)
        return self.c_proj(y)


class Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=1e-5)
        self.attn = SelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=1e-5)
        self.mlp = Mlp(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg, init_seed=None):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=1e-5)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight                 # weight tying
        if init_seed is not None:
            self.gpt2_init(init_seed)

    @torch.no_grad()
    def gpt2_init(self, seed):
        """GPT-2 init: N(0, 0.02) weights, zero biases, LayerNorm (1, 0), residual
        projections (attn.c_proj, mlp.c_proj) N(0, 0.02/sqrt(2L)). One seeded stream,
        tensors drawn in module order."""
        torch.manual_seed(seed)
        std, resid_std = 0.02, 0.02 / math.sqrt(2 * self.cfg.n_layer)
        for name, module in self.named_modules():
            if isinstance(module, nn.Embedding):
                module.weight.normal_(0.0, std)
            elif isinstance(module, nn.Linear) and module is not self.lm_head:
                module.weight.normal_(0.0, resid_std if name.endswith("c_proj") else std)
                module.bias.zero_()
            elif isinstance(module, nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()

    @torch.no_grad()
    def perturb(self, std, seed):
        """Optional: add N(0, std) to every bias and LayerNorm parameter, so that a
        fixture also exercises the terms that are zero or one at GPT-2 init."""
        gen = torch.Generator().manual_seed(seed + 2)
        for name, p in self.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn(p.shape, generator=gen) * std)

    def forward(self, idx, targets=None):
        b, t = idx.shape
        assert t <= self.cfg.block_size
        pos = torch.arange(t, dtype=torch.long)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1),
                                   ignore_index=-1)
        return logits, loss

    # ---- llm.c layout

    def llmc_tensors(self, grads=False):
        """The 16 llm.c tensors (values or gradients), wte padded to Vp, layers stacked."""
        def get(p):
            if not grads:
                return p.detach()
            return p.grad.detach() if p.grad is not None else torch.zeros_like(p)

        def stack(fn):
            return torch.stack([get(fn(blk)) for blk in self.h])

        wte = get(self.wte.weight)
        pad = self.cfg.padded_vocab_size - self.cfg.vocab_size
        wte = torch.cat([wte, wte.new_zeros(pad, self.cfg.n_embd)])
        out = [wte, get(self.wpe.weight),
               stack(lambda b: b.ln_1.weight), stack(lambda b: b.ln_1.bias),
               stack(lambda b: b.attn.c_attn.weight), stack(lambda b: b.attn.c_attn.bias),
               stack(lambda b: b.attn.c_proj.weight), stack(lambda b: b.attn.c_proj.bias),
               stack(lambda b: b.ln_2.weight), stack(lambda b: b.ln_2.bias),
               stack(lambda b: b.mlp.c_fc.weight), stack(lambda b: b.mlp.c_fc.bias),
               stack(lambda b: b.mlp.c_proj.weight), stack(lambda b: b.mlp.c_proj.bias),
               get(self.ln_f.weight), get(self.ln_f.bias)]
        for (name, shape), tensor in zip(self.cfg.param_shapes(), out):
            assert tuple(tensor.shape) == shape, (name, tuple(tensor.shape), shape)
        return out

    @torch.no_grad()
    def load_llmc_tensors(self, tensors):
        """Inverse of llmc_tensors(): set the parameters from the 16 llm.c tensors."""
        t = dict(zip(PARAM_NAMES, tensors))
        self.wte.weight.copy_(t["wte"][:self.cfg.vocab_size])
        self.wpe.weight.copy_(t["wpe"])
        for i, blk in enumerate(self.h):
            blk.ln_1.weight.copy_(t["ln1w"][i]); blk.ln_1.bias.copy_(t["ln1b"][i])
            blk.attn.c_attn.weight.copy_(t["qkvw"][i]); blk.attn.c_attn.bias.copy_(t["qkvb"][i])
            blk.attn.c_proj.weight.copy_(t["attprojw"][i]); blk.attn.c_proj.bias.copy_(t["attprojb"][i])
            blk.ln_2.weight.copy_(t["ln2w"][i]); blk.ln_2.bias.copy_(t["ln2b"][i])
            blk.mlp.c_fc.weight.copy_(t["fcw"][i]); blk.mlp.c_fc.bias.copy_(t["fcb"][i])
            blk.mlp.c_proj.weight.copy_(t["fcprojw"][i]); blk.mlp.c_proj.bias.copy_(t["fcprojb"][i])
        self.ln_f.weight.copy_(t["lnfw"]); self.ln_f.bias.copy_(t["lnfb"])


# ----------------------------------------------------------------------------- files

def header(*values):
    h = np.zeros(HEADER_INTS, dtype="<i4")
    h[:len(values)] = values
    return h


def write_floats(f, tensors):
    for t in tensors:
        f.write(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes())


def write_model(path, model):
    cfg = model.cfg
    with open(path, "wb") as f:
        f.write(header(MODEL_MAGIC, MODEL_VERSION, cfg.block_size, cfg.vocab_size, cfg.n_layer,
                       cfg.n_head, cfg.n_embd, cfg.padded_vocab_size).tobytes())
        write_floats(f, model.llmc_tensors())


def write_state(path, model, inputs, targets, logits, loss):
    b, t = inputs.shape
    with open(path, "wb") as f:
        f.write(header(STATE_MAGIC, STATE_VERSION, b, t).tobytes())
        f.write(inputs.numpy().astype("<i4").tobytes())
        f.write(targets.numpy().astype("<i4").tobytes())
        write_floats(f, [logits, loss.reshape(1)])
        write_floats(f, model.llmc_tensors(grads=True))


def read_model(path):
    """Returns (Config, list of the 16 llm.c tensors). Checks the header and the size."""
    raw = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    if raw[0] != MODEL_MAGIC or raw[1] != MODEL_VERSION:
        raise ValueError(f"{path}: bad magic/version {raw[0]}/{raw[1]}")
    cfg = Config(block_size=int(raw[2]), vocab_size=int(raw[3]), n_layer=int(raw[4]),
                 n_head=int(raw[5]), n_embd=int(raw[6]))
    if raw[7] != cfg.padded_vocab_size or np.any(raw[8:] != 0):
        raise ValueError(f"{path}: bad padded vocab {raw[7]} or non-zero header tail")
    data = np.fromfile(path, dtype="<f4", offset=HEADER_INTS * 4)
    if data.size != cfg.num_parameters():
        raise ValueError(f"{path}: {data.size} floats, expected {cfg.num_parameters()}")
    return cfg, split_tensors(cfg, data)


def split_tensors(cfg, flat):
    out, offset = [], 0
    for _, shape in cfg.param_shapes():
        n = int(np.prod(shape))
        out.append(torch.from_numpy(flat[offset:offset + n].reshape(shape).copy()))
        offset += n
    assert offset == flat.size
    return out


def read_state(path, cfg):
    """Returns dict(inputs, targets, logits, loss, grads) and checks header and size."""
    hdr = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    if hdr[0] != STATE_MAGIC or hdr[1] != STATE_VERSION or np.any(hdr[4:] != 0):
        raise ValueError(f"{path}: bad state header {hdr[:4]}")
    b, t = int(hdr[2]), int(hdr[3])
    v, n = cfg.vocab_size, cfg.num_parameters()
    expected = 4 * (HEADER_INTS + 2 * b * t + b * t * v + 1 + n)
    if os.path.getsize(path) != expected:
        raise ValueError(f"{path}: {os.path.getsize(path)} bytes, expected {expected}")
    with open(path, "rb") as f:
        f.seek(HEADER_INTS * 4)
        inputs = np.frombuffer(f.read(4 * b * t), dtype="<i4").reshape(b, t)
        targets = np.frombuffer(f.read(4 * b * t), dtype="<i4").reshape(b, t)
        logits = np.frombuffer(f.read(4 * b * t * v), dtype="<f4").reshape(b, t, v)
        loss = np.frombuffer(f.read(4), dtype="<f4")[0]
        grads = np.frombuffer(f.read(4 * n), dtype="<f4")
    return {"inputs": torch.from_numpy(inputs.astype(np.int64)),
            "targets": torch.from_numpy(targets.astype(np.int64)),
            "logits": torch.from_numpy(logits.copy()), "loss": float(loss),
            "grads": split_tensors(cfg, grads.copy())}


# ----------------------------------------------------------------------------- data, optimizer

def make_batch(cfg, b, t, seed, mask_fraction):
    """Tokens from a generator seeded with seed+1: inputs = tok[:, :-1], targets =
    tok[:, 1:], then round(mask_fraction*B*T) targets set to -1 (at least one kept)."""
    gen = torch.Generator().manual_seed(seed + 1)
    tokens = torch.randint(0, cfg.vocab_size, (b, t + 1), generator=gen, dtype=torch.long)
    inputs, targets = tokens[:, :-1].clone(), tokens[:, 1:].clone()
    n_mask = min(int(round(mask_fraction * b * t)), b * t - 1)
    if n_mask > 0:
        where = torch.randperm(b * t, generator=gen)[:n_mask]
        targets.view(-1)[where] = -1
    return inputs, targets


def make_examples(cfg, n, t, seed):
    """N fine-tuning examples from a generator seeded with seed+2: each starts with token V-1
    (the stand-in for <|endoftext|>, not trained on), then 1-5 prompt tokens (not trained on),
    then 1-5 answer tokens (trained on). Example 3 is made longer than a row (T+1) by 4 tokens,
    so the packing must truncate it. Returns a list of (tokens, trained) pairs."""
    gen = torch.Generator().manual_seed(seed + 2)
    examples = []
    for i in range(n):
        prompt = int(torch.randint(1, 6, (1,), generator=gen))
        answer = int(torch.randint(1, 6, (1,), generator=gen))
        if i == 3:
            answer = t + 1 + 4 - 1 - prompt
        body = torch.randint(0, cfg.vocab_size - 1, (prompt + answer,), generator=gen).tolist()
        tokens = [cfg.vocab_size - 1] + body
        trained = [False] * (1 + prompt) + [True] * answer
        examples.append((tokens, trained))
    return examples


def pack_rows(examples, t):
    """SharpGPT's packing, written out from its documentation: whole examples in order, greedily,
    into rows of T+1 tokens; an example longer than a row gets a row of its own, cut to T+1. A row
    gives inputs row[:T] and targets row[1:], a target being -1 where its token is not trained on;
    the rest of a row is padding: input 0, target -1. Returns (inputs, targets, truncated)."""
    cap = t + 1
    rows, truncated, i = [], 0, 0
    while i < len(examples):
        tokens, trained = examples[i]
        if len(tokens) >= cap:
            truncated += len(tokens) > cap
            rows.append((tokens[:cap], trained[:cap]))
            i += 1
            continue
        row_tokens, row_trained = list(tokens), list(trained)
        i += 1
        while i < len(examples) and len(row_tokens) + len(examples[i][0]) <= cap:
            row_tokens += examples[i][0]
            row_trained += examples[i][1]
            i += 1
        rows.append((row_tokens, row_trained))
    inputs, targets = [], []
    for tokens, trained in rows:
        x = [tokens[j] if j < len(tokens) else 0 for j in range(t)]
        y = [tokens[j + 1] if j + 1 < len(tokens) and trained[j + 1] else -1 for j in range(t)]
        inputs.append(x)
        targets.append(y)
    return torch.tensor(inputs, dtype=torch.long), torch.tensor(targets, dtype=torch.long), truncated


class LlmcAdamW:
    """llm.c's C AdamW (see the module docstring), float32, one op at a time."""

    def __init__(self, params, lr, beta1, beta2, eps, weight_decay):
        self.params = list(params)
        f = np.float32
        self.lr, self.b1, self.b2 = f(lr), f(beta1), f(beta2)
        self.eps, self.wd = f(eps), f(weight_decay)
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        f, one = np.float32, np.float32(1.0)
        omb1, omb2 = float(one - self.b1), float(one - self.b2)     # 1-beta in float32
        bc1 = float(one - self.b1 ** f(self.t))                     # powf in float32
        bc2 = float(one - self.b2 ** f(self.t))
        b1, b2, lr, eps, wd = (float(x) for x in (self.b1, self.b2, self.lr, self.eps, self.wd))
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m.copy_(m * b1 + g * omb1)
            v.copy_(v * b2 + (g * g) * omb2)
            mhat = m / bc1
            vhat = v / bc2
            update = mhat / (torch.sqrt(vhat) + eps) + p * wd
            p.copy_(p - update * lr)


def count_steps(steps):
    if steps < 1:
        raise ValueError("--steps must be at least 1 (loss0 comes from the first step)")


# ----------------------------------------------------------------------------- main

def generate(args):
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    count_steps(args.steps)
    cfg = Config(args.block_size, args.vocab, args.layers, args.heads, args.embd)
    if args.seq > cfg.block_size:
        raise ValueError(f"--seq {args.seq} exceeds --block-size {cfg.block_size}")

    model = GPT(cfg, init_seed=args.seed)
    if args.perturb_std > 0:
        model.perturb(args.perturb_std, args.seed)
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, args.name)
    truncated = None
    if args.examples > 0:
        examples = make_examples(cfg, args.examples, args.seq, args.seed)
        inputs, targets, truncated = pack_rows(examples, args.seq)
        if inputs.shape[0] < args.batch:
            raise ValueError(f"{args.examples} examples fill {inputs.shape[0]} rows, fewer than --batch {args.batch}")
        inputs, targets = inputs[:args.batch].clone(), targets[:args.batch].clone()
        with open(base + "_examples.json", "w") as f:
            json.dump({"examples": [{"tokens": tk, "trained": tr} for tk, tr in examples],
                       "rows": int(pack_rows(examples, args.seq)[0].shape[0]), "truncated": truncated}, f)
            f.write("\n")
    else:
        inputs, targets = make_batch(cfg, args.batch, args.seq, args.seed, args.mask_fraction)

    write_model(base + "_model.bin", model)

    params = list(model.parameters())          # wte/lm_head counted once
    if args.torch_adamw:
        opt = torch.optim.AdamW(params, lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]),
                                eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"], foreach=False)
    else:
        opt = LlmcAdamW(params, **ADAMW)

    losses = []
    for step in range(args.steps):
        for p in params:
            p.grad = None
        logits, loss = model(inputs, targets)
        loss.backward()
        losses.append(float(loss.item()))
        if step == 0:
            write_state(base + "_state.bin", model, inputs, targets, logits, loss)
        opt.step()

    report = {
        "config": cfg.as_dict(),
        "B": args.batch, "T": args.seq, "steps": args.steps, "seed": args.seed,
        "mask_fraction": args.mask_fraction, "num_masked_targets": int((targets == -1).sum()),
        "examples": args.examples, "truncated_examples": truncated,
        "perturb_std": args.perturb_std,
        "num_parameters": cfg.num_parameters(), "num_parameters_unpadded": cfg.num_parameters(False),
        "losses": losses,
        "optimizer": "torch.optim.AdamW" if args.torch_adamw else "llm.c AdamW",
        "adamw": dict(ADAMW, t_start=1, applies_to="every parameter (weight decay on all)",
                      update=["m = beta1*m + (1-beta1)*g", "v = beta2*v + (1-beta2)*g*g",
                              "mhat = m / (1 - beta1^t)", "vhat = v / (1 - beta2^t)",
                              "p = p - lr * (mhat / (sqrt(vhat) + eps) + weight_decay*p)"]),
        "loss": "mean cross-entropy over targets != -1 (ignore_index=-1)",
        "torch_version": torch.__version__,
    }
    with open(base + "_losses.json", "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")

    if not args.no_check:
        from check_roundtrip import check
        check(args.out, args.name)
    print(f"{args.name}: V={cfg.vocab_size} loss0={losses[0]:.6f} (ln V={math.log(cfg.vocab_size):.6f}) "
          f"loss{args.steps - 1}={losses[-1]:.6f} masked={report['num_masked_targets']}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--embd", type=int, required=True)
    ap.add_argument("--block-size", type=int, required=True)
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--mask-fraction", type=float, default=0.0,
                    help="fraction of targets set to -1 (ignored by the loss)")
    ap.add_argument("--examples", type=int, default=0,
                    help="the batch is the first B packed rows of this many fine-tuning examples")
    ap.add_argument("--perturb-std", type=float, default=0.0,
                    help="add N(0, std) to biases and LayerNorm parameters after GPT-2 init")
    ap.add_argument("--torch-adamw", action="store_true",
                    help="use torch.optim.AdamW instead of llm.c's update (for comparison only)")
    ap.add_argument("--no-check", action="store_true", help="skip the read-back self-check")
    generate(ap.parse_args(argv))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
