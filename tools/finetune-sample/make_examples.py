#!/usr/bin/env python3
"""Writes generated prompt/completion examples for a fine-tuning run that needs no download:
questions about small numbers, each with its answer in one fixed form, so a model can learn the
form and part of the arithmetic. Deterministic for a seed.

  python3 tools/finetune-sample/make_examples.py --out examples.jsonl [--count 600] [--seed 1]
"""

import argparse
import json
import random


def example(rng):
    a, b = rng.randint(1, 49), rng.randint(1, 49)
    kind = rng.randrange(3)
    if kind == 0:
        return {"prompt": f"What is {a} plus {b}?", "completion": f"{a} plus {b} is {a + b}."}
    if kind == 1:
        return {"prompt": f"What number comes after {a}?", "completion": f"After {a} comes {a + 1}."}
    return {"prompt": f"Which is larger, {a} or {b}?", "completion": f"{max(a, b)} is larger." if a != b else f"They are both {a}."}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with open(args.out, "w") as f:
        for _ in range(args.count):
            f.write(json.dumps(example(rng)) + "\n")


if __name__ == "__main__":
    main()
