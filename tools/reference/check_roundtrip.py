#!/usr/bin/python3
"""Re-reads the files gpt2_reference.py wrote and checks them.

  /usr/bin/python3 tools/reference/check_roundtrip.py DIR NAME [NAME ...]

Checks headers and sizes, that the JSON agrees with the binaries, that padded
vocabulary rows are zero, that a plain float64 numpy forward reading the
checkpoint as llm.c lays it out gives the stored logits and loss, then rebuilds the model from NAME_model.bin alone and
requires the forward/backward on the stored batch to reproduce the stored
logits, loss and gradients bit for bit, and the AdamW run to reproduce every
recorded loss bit for bit.
"""

import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt2_reference as ref  # noqa: E402


def numpy_forward(cfg, p, inputs, targets):
    """GPT-2 forward in float64 numpy from the 16 llm.c tensors, written out plainly:
    qkvw rows are [q; k; v], head h owns channels h*hs..(h+1)*hs-1 of each."""
    (wte, wpe, ln1w, ln1b, qkvw, qkvb, attprojw, attprojb,
     ln2w, ln2b, fcw, fcb, fcprojw, fcprojb, lnfw, lnfb) = p
    b, t = inputs.shape
    c, nh, v = cfg.n_embd, cfg.n_head, cfg.vocab_size
    hs = c // nh

    def layernorm(x, w, bias):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-5) * w + bias

    x = wte[inputs] + wpe[:t]
    for l in range(cfg.n_layer):
        qkv = layernorm(x, ln1w[l], ln1b[l]) @ qkvw[l].T + qkvb[l]
        y = np.zeros((b, t, c))
        for h in range(nh):
            q = qkv[:, :, h * hs:(h + 1) * hs]
            k = qkv[:, :, c + h * hs:c + (h + 1) * hs]
            vv = qkv[:, :, 2 * c + h * hs:2 * c + (h + 1) * hs]
            s = q @ k.transpose(0, 2, 1) / math.sqrt(hs)
            s = np.where(np.tril(np.ones((t, t), dtype=bool)), s, -np.inf)
            s = np.exp(s - s.max(-1, keepdims=True))
            y[:, :, h * hs:(h + 1) * hs] = (s / s.sum(-1, keepdims=True)) @ vv
        x = x + y @ attprojw[l].T + attprojb[l]
        u = layernorm(x, ln2w[l], ln2b[l]) @ fcw[l].T + fcb[l]
        u = 0.5 * u * (1 + np.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u ** 3)))
        x = x + u @ fcprojw[l].T + fcprojb[l]
    logits = layernorm(x, lnfw, lnfb) @ wte.T          # [B, T, Vp]; padded rows give 0
    logits = logits[:, :, :v]
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    keep = targets != -1
    nll = -np.take_along_axis(logp, np.where(keep, targets, 0)[..., None], -1)[..., 0]
    return logits, float(nll[keep].mean())


def check(out, name):
    torch.set_num_threads(1)
    base = os.path.join(out, name)
    cfg, tensors = ref.read_model(base + "_model.bin")
    state = ref.read_state(base + "_state.bin", cfg)
    with open(base + "_losses.json") as f:
        report = json.load(f)

    # the JSON and the binaries agree
    assert report["config"] == cfg.as_dict(), (report["config"], cfg.as_dict())
    b, t = state["inputs"].shape
    assert (report["B"], report["T"]) == (b, t)
    assert len(report["losses"]) == report["steps"]
    assert np.float32(report["losses"][0]) == np.float32(state["loss"])
    assert report["num_parameters"] == cfg.num_parameters()
    assert all(math.isfinite(x) for x in report["losses"])

    # token ranges, mask, padding
    inputs, targets = state["inputs"], state["targets"]
    assert int(inputs.min()) >= 0 and int(inputs.max()) < cfg.vocab_size
    assert int(targets.min()) >= -1 and int(targets.max()) < cfg.vocab_size
    assert int((targets == -1).sum()) == report["num_masked_targets"]
    assert int((targets != -1).sum()) > 0
    v = cfg.vocab_size
    assert not tensors[0][v:].any(), "padded wte rows must be zero"
    assert not state["grads"][0][v:].any(), "padded wte gradient rows must be zero"
    assert abs(state["loss"] - math.log(v)) < 0.25, (state["loss"], math.log(v))

    # an independent float64 numpy forward that reads the file the way llm.c does
    want = state["logits"].double().numpy()
    got, got_loss = numpy_forward(cfg, [x.double().numpy() for x in tensors],
                                  inputs.numpy(), targets.numpy())
    assert np.max(np.abs(got - want)) < 1e-5, np.max(np.abs(got - want))
    assert abs(got_loss - state["loss"]) < 1e-5, (got_loss, state["loss"])

    # rebuild from the checkpoint alone and recompute
    model = ref.GPT(cfg)
    model.load_llmc_tensors(tensors)
    logits, loss = model(inputs, targets)
    loss.backward()
    assert torch.equal(logits.detach(), state["logits"]), "logits differ"
    assert np.float32(loss.item()) == np.float32(state["loss"]), "loss differs"
    for pname, got, want in zip(ref.PARAM_NAMES, model.llmc_tensors(grads=True), state["grads"]):
        assert torch.equal(got, want), f"gradient of {pname} differs"

    # replay the optimizer
    if report["optimizer"] == "llm.c AdamW":
        model = ref.GPT(cfg)
        model.load_llmc_tensors(tensors)
        params = list(model.parameters())
        opt = ref.LlmcAdamW(params, **ref.ADAMW)
        for step, want in enumerate(report["losses"]):
            for p in params:
                p.grad = None
            _, loss = model(inputs, targets)
            loss.backward()
            assert loss.item() == want, f"step {step}: loss {loss.item()} != {want}"
            opt.step()
    print(f"{name}: round trip OK ({cfg.num_parameters()} params, B={b} T={t})")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    for n in sys.argv[2:]:
        check(sys.argv[1], n)
