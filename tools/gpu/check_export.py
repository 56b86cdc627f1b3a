#!/usr/bin/env python3
"""Loads a folder written by `sharpgpt export` with transformers' GPT2LMHeadModel.from_pretrained and
compares its logits, on the tokens of an llm.c debug state, with the state's logits (PyTorch's
reference, which `sharpgpt verify` checks SharpGPT against on the same tokens).

  python3 tools/gpu/check_export.py --dir EXPORTED --model M.bin --state S.bin

Prints one JSON line: transformers' version, the largest logit difference, and whether it is within
llm.c's logit tolerance (1e-2; the tests' own bound is 1e-4). Exits 1 when it is not, 2 when torch or
transformers is not installed (nothing checked).
"""

import argparse
import json
import os
import sys

try:
    import torch
    import transformers
    from transformers import GPT2LMHeadModel
except ImportError as e:
    print(json.dumps({"skipped": f"{e.name} is not installed"}))
    sys.exit(2)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from gpt2_reference import read_model, read_state  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, help="the folder `sharpgpt export` wrote")
    ap.add_argument("--model", required=True, help="the llm.c model file the state belongs to")
    ap.add_argument("--state", required=True, help="an llm.c debug state: inputs and reference logits")
    args = ap.parse_args()

    cfg, _ = read_model(args.model)
    state = read_state(args.state, cfg)
    model = GPT2LMHeadModel.from_pretrained(args.dir, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(state["inputs"]).logits[..., :cfg.vocab_size]
    difference = (logits - state["logits"]).abs().max().item()
    ok = difference <= 1e-2
    print(json.dumps({"transformers": transformers.__version__, "torch": torch.__version__, "max_logit_difference": difference,
                      "within_llmc_tolerance": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
