#!/usr/bin/python3
"""Hugging Face GPT-2 fixtures (safetensors) made from an llm.c-format reference model.

Neither `transformers` nor `safetensors` is installed here, so this script writes
safetensors by hand and lays the tensors out exactly as `GPT2LMHeadModel.save_pretrained`
does: keys prefixed `transformer.`, the Conv1D weights (attn.c_attn, attn.c_proj,
mlp.c_fc, mlp.c_proj) stored [in, out] (the transpose of nn.Linear's [out, in]), the
tied lm_head left out, `__metadata__` {"format": "pt"}, the JSON header padded with spaces
to a multiple of 8 and the tensors ordered by dtype size then name. It then checks the
layout with an independent forward written the way transformers' GPT-2 computes
(Conv1D = addmm(bias, x, weight), gelu_new), against the logits of the debug state.

  /usr/bin/python3 tools/reference/make_hf_fixture.py \
      --model tests/SharpGpt.Tests/Fixtures/tiny_model.bin \
      --state tests/SharpGpt.Tests/Fixtures/tiny_state.bin \
      --out tests/SharpGpt.Tests/Fixtures

writes, in --out:
  tiny_hf/model.safetensors + tiny_hf/config.json
      F32, `transformer.` keys, plus the old persistent buffers h.N.attn.bias (BOOL
      causal mask [1,1,maxT,maxT]) and h.N.attn.masked_bias (F32 scalar) to be ignored
  tiny_hf_bf16.safetensors   BF16, no key prefix (as GPT2Model / the hub's gpt2 saves),
      an explicit lm_head.weight equal to wte, attn.bias as F32; no config.json
  tiny_hf_f16.safetensors    F16, `transformer.` keys, no buffers; no config.json

  /usr/bin/python3 tools/reference/make_hf_fixture.py --check DIR --state S.bin
checks a folder written by `sharpgpt export`: the header, the metadata transformers
requires, config.json, the key set and the forward against the state's logits.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_reference import read_model, read_state  # noqa: E402

DTYPES = {torch.float32: ("F32", 4), torch.float16: ("F16", 2), torch.bfloat16: ("BF16", 2),
          torch.bool: ("BOOL", 1)}
NUMPY_OF = {"F32": np.float32, "F16": np.float16, "BOOL": np.bool_}
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def hf_state_dict(cfg, t, prefix="transformer.", buffers="bool", lm_head=False):
    """The HF GPT-2 tensors from the 16 llm.c tensors (wte unpadded, Conv1D transposed)."""
    sd = {prefix + "wte.weight": t[0][:cfg.vocab_size], prefix + "wpe.weight": t[1]}
    for i in range(cfg.n_layer):
        h = f"{prefix}h.{i}."
        sd[h + "ln_1.weight"], sd[h + "ln_1.bias"] = t[2][i], t[3][i]
        if buffers is not None:
            mask = torch.tril(torch.ones(cfg.block_size, cfg.block_size, dtype=torch.bool))
            sd[h + "attn.bias"] = mask.view(1, 1, cfg.block_size, cfg.block_size)
            if buffers == "f32":
                sd[h + "attn.bias"] = sd[h + "attn.bias"].to(torch.float32)
            sd[h + "attn.masked_bias"] = torch.tensor(-1e4)
        sd[h + "attn.c_attn.weight"], sd[h + "attn.c_attn.bias"] = t[4][i].t(), t[5][i]
        sd[h + "attn.c_proj.weight"], sd[h + "attn.c_proj.bias"] = t[6][i].t(), t[7][i]
        sd[h + "ln_2.weight"], sd[h + "ln_2.bias"] = t[8][i], t[9][i]
        sd[h + "mlp.c_fc.weight"], sd[h + "mlp.c_fc.bias"] = t[10][i].t(), t[11][i]
        sd[h + "mlp.c_proj.weight"], sd[h + "mlp.c_proj.bias"] = t[12][i].t(), t[13][i]
    sd[prefix + "ln_f.weight"], sd[prefix + "ln_f.bias"] = t[14], t[15]
    if lm_head:
        sd["lm_head.weight"] = sd[prefix + "wte.weight"]
    return {k: v.contiguous() for k, v in sd.items()}


def raw_bytes(tensor):
    if tensor.dtype == torch.bfloat16:      # numpy has no bfloat16: the upper half of float32
        bits = tensor.to(torch.float32).contiguous().numpy().view("<u4")
        # torch's float -> bfloat16 already rounded; the low 16 bits of the widened value are zero
        assert np.all(bits & 0xFFFF == 0)
        return (bits >> 16).astype("<u2").tobytes()
    return tensor.contiguous().numpy().astype(np.dtype(NUMPY_OF[DTYPES[tensor.dtype][0]]).newbyteorder("<")).tobytes()


def write_safetensors(path, sd, dtype=torch.float32):
    """safetensors as the reference writer lays it out; float tensors cast to dtype."""
    tensors = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in sd.items()}
    order = sorted(tensors, key=lambda k: (-DTYPES[tensors[k].dtype][1], k))
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in order:
        data = raw_bytes(tensors[name])
        header[name] = {"dtype": DTYPES[tensors[name].dtype][0], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    """A strict reader: returns (metadata, {name: float32 tensor or bool tensor})."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert 2 <= n <= len(raw) - 8 and n % 8 == 0, n
    header = json.loads(raw[8:8 + n].decode())
    data = raw[8 + n:]
    meta = header.pop("__metadata__", None)
    out, end = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e = info["data_offsets"]
        assert b == end, (name, b, end)
        end = e
        chunk = data[b:e]
        shape = info["shape"]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(chunk, dtype=np.dtype(NUMPY_OF[info["dtype"]]).newbyteorder("<"))
        assert arr.size == int(np.prod(shape)), name
        out[name] = torch.from_numpy(arr.reshape(shape).copy())
        if out[name].is_floating_point():
            out[name] = out[name].to(torch.float32)
    assert end == len(data)
    return meta, out


def hf_forward(sd, n_head, idx):
    """GPT-2 the way transformers computes it, from an HF state dict (any key prefix)."""
    prefix = "transformer." if "transformer.wte.weight" in sd else ""
    g = lambda k: sd[prefix + k]  # noqa: E731

    def conv1d(x, w, b):                # transformers.pytorch_utils.Conv1D: weight [in, out]
        size_out = x.shape[:-1] + (w.shape[1],)
        return torch.addmm(b, x.reshape(-1, x.shape[-1]), w).view(size_out)

    def gelu_new(x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    b, t = idx.shape
    x = g("wte.weight")[idx] + g("wpe.weight")[torch.arange(t)]
    c = x.shape[-1]
    hs = c // n_head
    layer = 0
    while prefix + f"h.{layer}.ln_1.weight" in sd:
        h = f"h.{layer}."
        a = F.layer_norm(x, (c,), g(h + "ln_1.weight"), g(h + "ln_1.bias"), 1e-5)
        q, k, v = conv1d(a, g(h + "attn.c_attn.weight"), g(h + "attn.c_attn.bias")).split(c, dim=2)
        q, k, v = (z.view(b, t, n_head, hs).permute(0, 2, 1, 3) for z in (q, k, v))
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hs)
        causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
        w = torch.where(causal, w, torch.tensor(torch.finfo(w.dtype).min))
        y = torch.matmul(F.softmax(w, dim=-1), v).permute(0, 2, 1, 3).reshape(b, t, c)
        x = x + conv1d(y, g(h + "attn.c_proj.weight"), g(h + "attn.c_proj.bias"))
        m = F.layer_norm(x, (c,), g(h + "ln_2.weight"), g(h + "ln_2.bias"), 1e-5)
        m = conv1d(gelu_new(conv1d(m, g(h + "mlp.c_fc.weight"), g(h + "mlp.c_fc.bias"))),
                   g(h + "mlp.c_proj.weight"), g(h + "mlp.c_proj.bias"))
        x = x + m
        layer += 1
    x = F.layer_norm(x, (c,), g("ln_f.weight"), g("ln_f.bias"), 1e-5)
    head = sd.get("lm_head.weight", g("wte.weight"))
    return x @ head.t()


def check_logits(sd, n_head, state, what, tol):
    logits = hf_forward(sd, n_head, state["inputs"])
    diff = float((logits - state["logits"]).abs().max())
    print(f"{what}: max |logits - state logits| = {diff:.3g}")
    if not diff <= tol:
        raise SystemExit(f"{what}: logits differ by {diff} > {tol}")


def hf_config(cfg):
    return {
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
        "embd_pdrop": 0.1, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
        "n_ctx": cfg.block_size, "n_embd": cfg.n_embd, "n_head": cfg.n_head, "n_inner": None,
        "n_layer": cfg.n_layer, "n_positions": cfg.block_size, "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1, "scale_attn_by_inverse_layer_idx": False, "scale_attn_weights": True,
        "summary_activation": None, "summary_first_dropout": 0.1, "summary_proj_to_labels": True,
        "summary_type": "cls_index", "summary_use_proj": True, "tie_word_embeddings": True,
        "torch_dtype": "float32", "transformers_version": "4.46.3", "use_cache": True,
        "vocab_size": cfg.vocab_size,
    }


def make(args):
    torch.set_num_threads(1)
    cfg, tensors = read_model(args.model)
    state = read_state(args.state, cfg)
    folder = os.path.join(args.out, "tiny_hf")
    os.makedirs(folder, exist_ok=True)

    sd = hf_state_dict(cfg, tensors)
    write_safetensors(os.path.join(folder, "model.safetensors"), sd)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(hf_config(cfg), f, indent=2, sort_keys=True)
        f.write("\n")
    _, back = read_safetensors(os.path.join(folder, "model.safetensors"))
    check_logits(back, cfg.n_head, state, "tiny_hf (F32)", 1e-5)

    bf = hf_state_dict(cfg, tensors, prefix="", buffers="f32", lm_head=True)
    write_safetensors(os.path.join(args.out, "tiny_hf_bf16.safetensors"), bf, torch.bfloat16)
    _, back = read_safetensors(os.path.join(args.out, "tiny_hf_bf16.safetensors"))
    check_logits(back, cfg.n_head, state, "tiny_hf_bf16", 0.05)

    f16 = hf_state_dict(cfg, tensors, buffers=None)
    write_safetensors(os.path.join(args.out, "tiny_hf_f16.safetensors"), f16, torch.float16)
    _, back = read_safetensors(os.path.join(args.out, "tiny_hf_f16.safetensors"))
    check_logits(back, cfg.n_head, state, "tiny_hf_f16", 0.01)


def check(args):
    """Checks a folder written by `sharpgpt export` the way from_pretrained would read it."""
    torch.set_num_threads(1)
    meta, sd = read_safetensors(os.path.join(args.check, "model.safetensors"))
    if meta is None or meta.get("format") != "pt":
        raise SystemExit(f"__metadata__ {meta}: transformers requires format 'pt'")
    with open(os.path.join(args.check, "config.json")) as f:
        conf = json.load(f)
    for key, want in [("model_type", "gpt2"), ("architectures", ["GPT2LMHeadModel"]),
                      ("activation_function", "gelu_new"), ("tie_word_embeddings", True), ("n_inner", None)]:
        if conf.get(key) != want:
            raise SystemExit(f"config.json: {key} = {conf.get(key)!r}, expected {want!r}")
    from gpt2_reference import Config
    cfg = Config(conf["n_positions"], conf["vocab_size"], conf["n_layer"], conf["n_head"], conf["n_embd"])
    fake = [torch.zeros(s) for _, s in cfg.param_shapes()]
    want = set(hf_state_dict(cfg, fake, buffers=None))
    if set(sd) != want:
        raise SystemExit(f"keys differ: extra {sorted(set(sd) - want)[:5]}, missing {sorted(want - set(sd))[:5]}")
    for name in want:
        if name.endswith(CONV1D):
            c = cfg.n_embd
            expect = {"attn.c_attn.weight": (c, 3 * c), "attn.c_proj.weight": (c, c),
                      "mlp.c_fc.weight": (c, 4 * c), "mlp.c_proj.weight": (4 * c, c)}
            suffix = next(s for s in CONV1D if name.endswith(s))
            if tuple(sd[name].shape) != expect[suffix]:
                raise SystemExit(f"{name}: shape {tuple(sd[name].shape)}, expected {expect[suffix]} (Conv1D [in, out])")
    state = read_state(args.state, cfg)
    check_logits(sd, conf["n_head"], state, args.check, 1e-5)
    print(f"{args.check}: OK ({len(sd)} tensors, config {cfg.as_dict()})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="llm.c checkpoint to convert")
    ap.add_argument("--state", required=True, help="llm.c debug state whose logits the forward must match")
    ap.add_argument("--out", help="fixture folder")
    ap.add_argument("--check", help="check a folder written by `sharpgpt export` instead")
    args = ap.parse_args()
    if args.check:
        check(args)
    elif args.model and args.out:
        make(args)
    else:
        ap.error("give --model and --out, or --check")


if __name__ == "__main__":
    main()
