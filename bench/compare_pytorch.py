#!/usr/bin/python3
"""SharpGPT against PyTorch on the same training step, alternating A B A B, with the ratio.

  /usr/bin/python3 bench/compare_pytorch.py --preset gpt2-124m --batch 4 --seq 64 --rounds 3

Each round runs `sharpgpt bench` and bench/pytorch_train_step.py (same model, AdamW, random
tokens, the given threads) as separate processes and reads the median ms/step from their last
JSON line. PyTorch runs in its fast settings when they are installed: tcmalloc preloaded
(Debian: libtcmalloc-minimal4) and OpenBLAS (libopenblas0-openmp; extracted to --openblas-dir
with `apt-get download libopenblas0-openmp && dpkg -x libopenblas0-openmp_*.deb DIR`).
--dtype bf16 uses torch.autocast for PyTorch.
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"


def last_json(output):
    for line in reversed(output.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON line in:\n" + output[-2000:])


def run(cmd, env=None):
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return last_json(done.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="gpt2-124m", choices=["gpt2-124m", "small6"])
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--openblas-dir", default="/tmp/openblas")
    args = ap.parse_args()

    sharp = ["dotnet", "run", "-c", "Release", "--project", os.path.join(ROOT, "src", "SharpGpt.Cli"), "--no-build", "--",
             "bench", "--batch", str(args.batch), "--seq", str(args.seq), "--steps", str(args.steps), "--threads", str(args.threads),
             "--dtype", args.dtype]
    if args.preset == "small6":
        sharp += ["--layers", "6", "--heads", "6", "--embd", "384"]
    torch_cmd = [sys.executable, os.path.join(HERE, "pytorch_train_step.py"), "--preset", args.preset, "--batch", str(args.batch),
                 "--seq", str(args.seq), "--steps", str(args.steps), "--threads", str(args.threads), "--dtype", args.dtype, "--pad-vocab"]
    env = dict(os.environ)
    if os.path.exists(TCMALLOC):
        env["LD_PRELOAD"] = TCMALLOC
    blas = glob.glob(os.path.join(args.openblas_dir, "usr/lib/x86_64-linux-gnu/openblas-*"))
    if blas:
        env["LD_LIBRARY_PATH"] = blas[0] + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "src", "SharpGpt.Cli")], capture_output=True, check=True)

    ratios = []
    for r in range(args.rounds):
        a = run(sharp)["ms_per_step"]
        b = run(torch_cmd, env)["ms_per_step"]
        ratios.append(a / b)
        print(f"round {r + 1}: sharpgpt {a:.1f} ms/step, pytorch {b:.1f} ms/step, ratio {a / b:.3f}", flush=True)
    print(json.dumps({"preset": args.preset, "batch": args.batch, "seq": args.seq, "threads": args.threads, "dtype": args.dtype,
                      "median_ratio_sharpgpt_over_pytorch": round(statistics.median(ratios), 3),
                      "tcmalloc": "LD_PRELOAD" in env, "openblas": bool(blas)}))


if __name__ == "__main__":
    main()
