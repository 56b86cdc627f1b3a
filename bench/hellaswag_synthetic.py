#!/usr/bin/python3
"""Inputs for timing `sharpgpt hellaswag` without the real data set (it cannot be downloaded here).

  /usr/bin/python3 bench/hellaswag_synthetic.py --examples 1000 --out /tmp/hs_synth.jsonl \
      [--model /tmp/gpt2_random.bin]

--out: N examples in hellaswag_val.jsonl's schema (ind, activity_label, ctx_a, ctx_b, ctx,
endings, source_id, split, split_type, label), made of Tiny Shakespeare words: contexts of
35-65 words and endings of 8-25 words, which GPT-2's BPE turns into roughly 40-80 and
10-30 tokens, the lengths of the real validation set.
--model: a GPT-2 124M llm.c checkpoint (fp32) with random GPT-2-init weights, for timing.
"""

import argparse
import json
import os
import random
import re
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=1000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", help="also write a random GPT-2 124M checkpoint here")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    with open(os.path.join(root, "data", "tinyshakespeare.txt")) as f:
        words = re.findall(r"[A-Za-z']+[,.;!?]?", f.read())
    rng = random.Random(args.seed)

    def text(lo, hi):
        return " ".join(rng.choice(words) for _ in range(rng.randint(lo, hi)))

    with open(args.out, "w") as f:
        for i in range(args.examples):
            ctx = text(35, 65)
            example = {"ind": i, "activity_label": "synthetic", "ctx_a": ctx, "ctx_b": "", "ctx": ctx,
                       "split": "val", "split_type": "indomain", "label": rng.randrange(4),
                       "endings": [text(8, 25) for _ in range(4)], "source_id": "synthetic"}
            f.write(json.dumps(example) + "\n")
    print(f"{args.out}: {args.examples} examples")

    if args.model:
        sys.path.insert(0, os.path.join(root, "tools", "reference"))
        import torch
        from gpt2_reference import GPT, Config, write_model
        torch.manual_seed(args.seed)
        model = GPT(Config(1024, 50257, 12, 12, 768), init_seed=args.seed)
        write_model(args.model, model)
        print(f"{args.model}: random GPT-2 124M")


if __name__ == "__main__":
    main()
