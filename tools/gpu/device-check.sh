#!/usr/bin/env bash
# Run on the GPU machine, from the repository with artifacts/gpu (tools/gpu/package.sh) beside it:
# unpacks the device bundle, runs `sharpgpt gpu-check` (device, smoke, bench), the PyTorch comparison
# on the same GPU and micro-batch (bench/pytorch_gpu_bench.py: bf16 autocast, flash attention, fused
# AdamW, torch.compile), the export check against transformers' GPT2LMHeadModel, then, for the
# next round of tuning, a per-kernel profile of the same bench and the bench without cuBLASLt's
# bias epilogue (A/B). Writes every result to $OUT (default: a new temporary folder) as it goes,
# and a summary to $OUT/summary.txt. Each step has a time limit, so one that hangs leaves the rest.
# Exit code: gpu-check's when it failed (1 a mismatch, 2 no CUDA device), else 1 if a later step failed, else 0.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
bundle=artifacts/gpu/sharpgpt-linux-x64.tar.xz
fixtures=tests/SharpGpt.Tests/Fixtures
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { echo "$*" | tee -a "$OUT/summary.txt"; }

if [ ! -f "$bundle" ]; then
    echo "error: $bundle not found: run tools/gpu/package.sh first (and carry artifacts/gpu)" >&2
    exit 1
fi
tar -C "$work" -xJf "$bundle"
bin="$work/sharpgpt/sharpgpt"
# The bundle carries its own .NET runtime: make sure nothing finds an installed one.
export DOTNET_ROOT=/nonexistent DOTNET_CLI_TELEMETRY_OPTOUT=1
{ nvidia-smi 2>&1 || echo "nvidia-smi: not available"; } > "$OUT/nvidia-smi.txt"
say "device-check $(date -u +%Y-%m-%dT%H:%M:%SZ), bundle $(stat -c %s "$bundle") bytes, results in $OUT"

# 1. gpu-check: the device, every kernel against the CPU, 20 training steps against the CPU, the bench.
timeout 360 "$bin" gpu-check "$@" > "$OUT/gpu-check.txt" 2>&1
code=$?
if [ "$code" -eq 1 ] && grep -q "no cuBLAS" "$OUT/gpu-check.txt"; then
    # Our own search found no cuBLAS: try the folders of this machine's Python, and say so.
    libs=$(python3 -c 'import site; print(":".join(f"{p}/nvidia/cu13/lib:{p}/nvidia/cublas/lib" for p in site.getsitepackages()))' 2>/dev/null)
    say "gpu-check found no cuBLAS by itself; retrying with SHARPGPT_CUDA_LIBS=$libs"
    export SHARPGPT_CUDA_LIBS=$libs
    timeout 360 "$bin" gpu-check "$@" > "$OUT/gpu-check.txt" 2>&1
    code=$?
fi
echo "$code" > "$OUT/gpu-check.exit"
grep '^{' "$OUT/gpu-check.txt" | tail -1 > "$OUT/gpu-check.json"
say "gpu-check: exit $code"
grep -E '^(device:|training|bench:|blas:|sharpgpt gpu-check:)' "$OUT/gpu-check.txt" | tee -a "$OUT/summary.txt"
if [ "$code" -eq 124 ]; then say "gpu-check: timed out after 360 s"; fi
if [ "$code" -eq 2 ]; then
    say "no CUDA device on this machine: the PyTorch comparison and the GPU bench are skipped"
fi

status=0
# 2. PyTorch on the same GPU and micro-batch. Its memory is not SharpGPT's (it keeps the logits in
#    bf16 and fp32, not the attention probabilities), so where that batch does not fit it runs at
#    64, then 16, and the summary says so: tokens/s are compared across the two batches then.
batch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bench"]["micro_batch"])' "$OUT/gpu-check.json" 2>/dev/null)
if [ -n "$batch" ]; then
    for torch_batch in $(printf '%s\n' "$batch" 64 16 | awk -v b="$batch" '$1 <= b && !seen[$1]++'); do
        timeout 300 python3 bench/pytorch_gpu_bench.py --batch "$torch_batch" --seq 1024 --steps 10 > "$OUT/pytorch-b$torch_batch.txt" 2>&1
        grep '^{' "$OUT/pytorch-b$torch_batch.txt" | tail -1 > "$OUT/pytorch.json"
        if [ -s "$OUT/pytorch.json" ]; then break; fi
        say "PyTorch at micro-batch $torch_batch failed: $(grep -m1 -iE 'error|memory' "$OUT/pytorch-b$torch_batch.txt" | cut -c1-200)"
        if [ "$torch_batch" -le 16 ]; then status=1; break; fi
    done
    if [ -s "$OUT/pytorch.json" ]; then
        python3 - "$OUT/gpu-check.json" "$OUT/pytorch.json" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys
ours, theirs = (json.load(open(p)) for p in sys.argv[1:3])
b = ours["bench"]
print(f"SharpGPT: {b['tokens_per_s']:.0f} tokens/s, {b['ms_per_step']} ms/step, MFU {b['mfu']} (B={b['micro_batch']}); "
      f"PyTorch: {theirs['tokens_per_s']:.0f} tokens/s, {theirs['ms_per_step']} ms/step, MFU {theirs['mfu']} (B={theirs['batch']}); "
      f"ratio {b['tokens_per_s'] / theirs['tokens_per_s']:.2f} (T={b['seq_len']}, bf16)")
PY
    fi
fi

# 3. export against transformers: the exported folder's logits against the reference's on the same tokens,
#    and SharpGPT's own against that reference (verify).
if "$bin" export --checkpoint "$fixtures/tiny_model.bin" --to "$work/hf" > "$OUT/export.txt" 2>&1; then
    "$bin" verify --model "$fixtures/tiny_model.bin" --state "$fixtures/tiny_state.bin" > "$OUT/verify.txt" 2>&1 || status=1
    python3 tools/gpu/check_export.py --dir "$work/hf" --model "$fixtures/tiny_model.bin" --state "$fixtures/tiny_state.bin" > "$OUT/export-check.json" 2>&1
    case $? in 0|2) ;; *) status=1 ;; esac   # 2: transformers not installed, nothing checked
    say "export: $(tail -1 "$OUT/export-check.json"); verify: $(tail -1 "$OUT/verify.txt")"
else
    say "export failed: $(tail -1 "$OUT/export.txt")"
    status=1
fi
# 4. Where the bench's time goes (each kernel timed between synchronizations, so the sum exceeds a
#    free-running step), and the bench with cuBLAS alone (the bias added by our kernel) against
#    cuBLASLt's bias epilogue, alternated: off, on, off, on.
if [ -n "$batch" ]; then
    bench=(bench --device cuda --dtype bf16 --seq 1024 --batch "$batch")
    timeout 180 "$bin" "${bench[@]}" --steps 3 --warmup 2 --profile > "$OUT/profile.txt" 2>&1 || status=1
    say "profile (ms per step by kernel, each timed between synchronizations):"
    grep -E '^[│|] ' "$OUT/profile.txt" | head -14 | tee -a "$OUT/summary.txt"
    for round in 1 2; do
        for lt in 0 1; do
            timeout 120 env SHARPGPT_CUBLASLT=$lt "$bin" "${bench[@]}" --steps 5 --warmup 2 > "$OUT/bench-cublaslt$lt-$round.txt" 2>&1 || status=1
            say "bench, cuBLASLt bias epilogue $([ $lt = 1 ] && echo on || echo off), round $round: $(grep '^{' "$OUT/bench-cublaslt$lt-$round.txt" | tail -1)"
        done
    done
fi
if [ "$code" -ne 0 ]; then exit "$code"; fi
exit "$status"
