#!/usr/bin/env bash
# Compares the Dynamo engine with llama.cpp on generated models, including files that
# llama.cpp itself quantizes (Q4_0, Q4_K_M, Q5_K_M, Q6_K, Q4_1, Q5_1).
# Needs npm (registry access), g++, python3 and a built worker (dotnet build Dynamo.Worker).
# `run.sh --build-only` installs the package and builds the harness, nothing else
# (bench/engine/compare.sh uses it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$here"
[ -d node_modules/@node-llama-cpp/linux-x64 ] || npm install --ignore-scripts --no-audit --no-fund
[ harness -nt harness.cpp ] || g++ -std=c++17 -O2 -o harness harness.cpp -ldl
[ "${1:-}" = "--build-only" ] && exit 0
lib="$(ls "$root"/native/build/*/libdynamo_engine.so | head -1)"
worker=(dotnet run --project "$root/Dynamo.Worker" --no-launch-profile --)
out="$(mktemp -d)"
"${worker[@]}" generate-model --preset tiny --type f32 --out "$out/tiny-f32.gguf"
"${worker[@]}" generate-model --preset default --out "$out/default-q8_0.gguf"
for arch in llama qwen2; do
  # Row lengths that are multiples of 256, so K-quants apply to every matrix.
  "${worker[@]}" generate-model --preset tiny --arch "$arch" --embd 256 --ffn 512 --untied --type f32 --out "$out/k-$arch-f32.gguf"
done
# Flash attention off and an F32 KV cache make llama.cpp compute attention in plain float32 like the engine.
LLAMA_NO_FA=1 LLAMA_KV_F32=1 python3 compare.py "$lib" \
  "$out/tiny-f32.gguf" "$out/default-q8_0.gguf" "$out/k-llama-f32.gguf" "$out/k-qwen2-f32.gguf" \
  --quantize "$out/k-qwen2-f32.gguf" 1 qwen2-f16 \
  --quantize "$out/k-llama-f32.gguf" 2 llama-q4_0 \
  --quantize "$out/k-llama-f32.gguf" 3 llama-q4_1 \
  --quantize "$out/k-llama-f32.gguf" 9 llama-q5_1 \
  --quantize "$out/k-llama-f32.gguf" 15 llama-q4_k_m \
  --quantize "$out/k-llama-f32.gguf" 17 llama-q5_k_m \
  --quantize "$out/k-qwen2-f32.gguf" 18 qwen2-q6_k
rm -rf "$out"
