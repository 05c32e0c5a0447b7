#!/usr/bin/env bash
# Speed of the Dynamo engine against llama.cpp on the same GGUF files, same machine, same run.
#
#   bench/engine/compare.sh            (ROUNDS=3, STEPS=16 timed decode steps, THREADS="1 nproc",
#                                       MODELS="q8_0 f16", SPIN_US and STEP_SPIN_US=engine defaults,
#                                       QUIET_LOAD=1.5 QUIET_WAIT_S=0)
#
# With QUIET_WAIT_S > 0 every pair of runs first waits (up to that many seconds) for the 1-minute
# load average to drop below QUIET_LOAD, so on a shared machine the wall-clock figures come from
# its quiet moments; the load seen at the start of each pair is printed with the tables.
#
# Builds the C# bench in Release and the llama.cpp harness (llamacpp/run.sh --build-only),
# generates the default model as Q8_0 and F16 into models/generated/ when missing, then runs
# the two engines alternately (ours, llama.cpp, ours, llama.cpp, ...) so load from other
# processes on a shared machine falls on both alike, and prints one markdown table of the
# medians over the rounds. Each run itself warms up and reports median step times. Every
# thread count in THREADS gets its own table, and one in tokens per CPU-second: at 1 thread the
# engines' own work, which the load from other processes barely moves; at more threads the work
# plus whatever each engine burns waiting at its barriers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds="${ROUNDS:-3}"
steps="${STEPS:-16}"
threads="${THREADS:-1 $(nproc)}"
models="${MODELS:-q8_0 f16}"
quiet_load="${QUIET_LOAD:-1.5}"
quiet_wait="${QUIET_WAIT_S:-0}"
spin_args=()
[ -n "${SPIN_US:-}" ] && spin_args=(--spin-us "$SPIN_US")
[ -n "${STEP_SPIN_US:-}" ] && spin_args+=(--step-spin-us "$STEP_SPIN_US")
models_dir="$root/models/generated"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "building ..." >&2
dotnet build -c Release "$here/Dynamo.Engine.Bench.csproj" -v q -nologo >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$here/llamacpp/run.sh" --build-only >&2
bench_dll="$(ls "$here"/bin/Release/*/Dynamo.Engine.Bench.dll | head -1)"
mkdir -p "$models_dir"
for type in $models; do
  [ -f "$models_dir/default-$type.gguf" ] ||
    dotnet run -c Release --project "$root/Dynamo.Worker" --no-launch-profile -- \
      generate-model --preset default --type "$type" --out "$models_dir/default-$type.gguf" >&2
done

echo "before: $(uptime)"
for type in $models; do
  model="$models_dir/default-$type.gguf"
  for round in $(seq "$rounds"); do
    for n in $threads; do
      waited=0
      while [ "$waited" -lt "$quiet_wait" ] &&
        ! awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v q="$quiet_load" 'BEGIN { exit !(l < q) }'; do
        sleep 5
        waited=$((waited + 5))
      done
      echo "  $type round $round/$rounds, $n threads, load $(cut -d' ' -f1 /proc/loadavg) after ${waited}s" | tee -a "$work/loads" >&2
      dotnet "$bench_dll" --model "$model" --threads "$n" --steps "$steps" "${spin_args[@]}" | grep '^RESULT' |
        sed "s/^/$type $n ours /" >>"$work/results"
      (cd "$here/llamacpp" && ./harness bench "$model" "$n" "$steps" 2>"$work/llama.log") | grep '^RESULT' |
        sed "s/^/$type $n llama /" >>"$work/results"
    done
  done
done
echo "after:  $(uptime)"
echo "1-minute load at the start of each pair of runs:"
sed 's/^  /    /' "$work/loads"
echo
python3 - "$work/results" "$rounds" "$models" <<'PY'
import statistics, sys
from collections import defaultdict
values = defaultdict(list)
for line in open(sys.argv[1]):
    model, threads, engine, _, key, value = line.split()
    values[(model, int(threads), engine, key)].append(float(value))
med = lambda m, n, e, k: statistics.median(values[(m, n, e, k)])
names = [("decode1", "decode, batch 1"), ("decode8", "decode, batch 8 (aggregate)"),
         ("decode32", "decode, batch 32 (aggregate)"), ("prefill512", "prefill, 512-token prompt")]
models = tuple(sys.argv[3].split())
for n in sorted({k[1] for k in values}):
    print(f"{n} thread(s), wall clock, median of {sys.argv[2]} interleaved rounds; llama.cpp: flash attention off, F32 KV cache (as ours)")
    print()
    print("| model | scenario | ours tok/s | llama.cpp tok/s | ratio |")
    print("|---|---|---:|---:|---:|")
    for model in models:
        for key, name in names:
            ours, theirs = med(model, n, "ours", key), med(model, n, "llama", key)
            print(f"| {model.upper()} | {name} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f}× |")
        # Batch-1 decode reads every weight once per token: tokens/s × bytes ÷ memcpy bandwidth.
        weight, bandwidth = med(model, n, "ours", "weightbytes"), med(model, n, "ours", "bandwidth")
        frac = lambda e: med(model, n, e, "decode1") * weight / bandwidth
        busy = lambda e: f"{med(model, n, e, 'coresbusy'):.2f}"
        print(f"| {model.upper()} | cores busy (CPU time ÷ wall time of the whole run) | {busy('ours')} | {busy('llama')} | |")
        print(f"| {model.upper()} | batch-1 decode, share of bandwidth bound ({weight / 1048576:.1f} MiB/token ÷ {bandwidth / 1e9:.1f} GB/s memcpy) "
              f"| {frac('ours'):.1%} | {frac('llama'):.1%} | |")
    print()
    # Per CPU-second: at 1 thread the engines' own work, which load from other processes barely
    # moves; at more threads it also charges each engine for its waiting (spinning counts).
    print(f"{n} thread(s), tokens per CPU-second (median step's process CPU time), median of {sys.argv[2]} rounds")
    print()
    print("| model | scenario | ours tok/CPU-s | llama.cpp tok/CPU-s | ratio |")
    print("|---|---|---:|---:|---:|")
    for model in models:
        for key, name in names:
            ours, theirs = med(model, n, "ours", "cpu" + key), med(model, n, "llama", "cpu" + key)
            print(f"| {model.upper()} | {name} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f}× |")
    print()
PY
