#!/bin/sh
# Regenerates the committed reference fixtures (see README.md in this folder).
# Usage: tools/reference/make_fixtures.sh [OUT_DIR]   (default: tests/SharpGpt.Tests/Fixtures)
set -eu
cd "$(dirname "$0")/../.."
OUT="${1:-tests/SharpGpt.Tests/Fixtures}"
PY=/usr/bin/python3            # Debian's interpreter, with PyTorch 1.13
GEN="$PY tools/reference/gpt2_reference.py --out $OUT --steps 10"

#                 L          H         C           maxT             V           B          T
$GEN --name tiny   --layers 2 --heads 2 --embd 32 --block-size 16 --vocab 97  --batch 2 --seq 11 --seed 1337
$GEN --name odd    --layers 3 --heads 3 --embd 30 --block-size 24 --vocab 131 --batch 3 --seq 7  --seed 42
$GEN --name wide   --layers 1 --heads 4 --embd 64 --block-size 32 --vocab 200 --batch 2 --seq 32 --seed 7
# same weights and tokens as tiny, a quarter of the targets set to -1
$GEN --name masked --layers 2 --heads 2 --embd 32 --block-size 16 --vocab 97  --batch 2 --seq 11 --seed 1337 --mask-fraction 0.25
# tiny's weights; the batch is 4 packed rows of fine-tuning examples (answers trained on, one truncated)
$GEN --name finetune --layers 2 --heads 2 --embd 32 --block-size 16 --vocab 97  --batch 4 --seq 11 --seed 1337 --examples 12
# biases and LayerNorm parameters moved off their init values (0 and 1)
$GEN --name perturbed --layers 2 --heads 2 --embd 16 --block-size 8 --vocab 50 --batch 2 --seq 8 --seed 5 --perturb-std 0.1
