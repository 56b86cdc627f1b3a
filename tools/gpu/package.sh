#!/usr/bin/env bash
# The device bundle: the sharpgpt CLI published self-contained for linux-x64 (it runs where no .NET is
# installed), untrimmed (trimming changes the IL that ILGPU compiles kernels from), as
# artifacts/gpu/sharpgpt-linux-x64.tar.xz, at most 60 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=artifacts/gpu
rm -rf "$out"
mkdir -p "$out/publish"
dotnet publish src/SharpGpt.Cli -c Release -r linux-x64 --self-contained true \
    -p:PublishTrimmed=false -p:PublishSingleFile=false -p:DebugType=none -o "$out/publish/sharpgpt" >/dev/null
XZ_OPT="-6 -T0" tar -C "$out/publish" -cJf "$out/sharpgpt-linux-x64.tar.xz" sharpgpt
rm -rf "$out/publish"
bytes=$(stat -c %s "$out/sharpgpt-linux-x64.tar.xz")
echo "$out/sharpgpt-linux-x64.tar.xz: $((bytes / 1048576)) MiB ($bytes bytes)"
if [ "$bytes" -gt $((60 * 1048576)) ]; then
    echo "error: the bundle is over 60 MiB" >&2
    exit 1
fi
