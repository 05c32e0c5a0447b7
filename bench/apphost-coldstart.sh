#!/usr/bin/env bash
# Cold start of the local cluster: from launching the AppHost to every resource healthy
# ("Dynamo cluster ready" line), and the graceful stop (SIGTERM to exit, no child left).
#
#   bench/apphost-coldstart.sh [runs=3] [--with-build]
#
# By default the AppHost runs with --no-build (the projects must be built: `dotnet build Dynamo.AppHost`);
# --with-build includes the AppHost's own up-to-date `dotnet build` of the five projects.
set -euo pipefail

runs=3
mode=--no-build
for arg in "$@"; do
  case "$arg" in
    --with-build) mode= ;;
    ''|*[!0-9]*) echo "usage: $0 [runs] [--with-build]" >&2; exit 2 ;;
    *) runs=$arg ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
configuration=${CONFIGURATION:-Debug}
dll="$root/Dynamo.AppHost/bin/$configuration/net10.0/Dynamo.AppHost.dll"
if [[ ! -f "$dll" ]]; then
  echo "error: $dll not found; run: dotnet build $root/Dynamo.AppHost/Dynamo.AppHost.csproj -c $configuration" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

printf '%-4s %-10s %12s %12s %10s %8s\n' run mode healthy_s reported_s stop_s orphans
results=()
for ((i = 1; i <= runs; i++)); do
  state="$work/state-$i"
  log="$work/apphost-$i.log"
  : >"$log"
  start=$(now)
  dotnet "$dll" $mode --state-dir "$state" >"$log" 2>&1 &
  pid=$!
  deadline=$(( $(date +%s) + 300 ))
  until grep -q "Dynamo cluster ready in" "$log"; do
    if ! kill -0 "$pid" 2>/dev/null || (( $(date +%s) > deadline )); then
      echo "run $i: the cluster did not come up; last lines:" >&2
      tail -20 "$log" >&2
      kill -9 "$pid" 2>/dev/null || true
      exit 1
    fi
    sleep 0.05
  done
  ready=$(now)
  reported=$(grep -o "ready in [0-9.]* s" "$log" | awk '{ print $3 }')
  pids=$(grep -o '"pid": [0-9]*' "$state/endpoints.json" | awk '{ print $2 }' | sort -u)

  stop_start=$(now)
  kill -TERM "$pid"
  wait "$pid" || true
  stopped=$(now)
  orphans=0
  for child in $pids; do
    if [[ -e /proc/$child ]] && ! grep -q '^[^)]*) [ZX]' "/proc/$child/stat" 2>/dev/null; then
      orphans=$((orphans + 1))
    fi
  done

  healthy=$(seconds "$start" "$ready")
  results+=("$healthy")
  printf '%-4s %-10s %12s %12s %10s %8s\n' "$i" "${mode:-build}" "$healthy" "$reported" "$(seconds "$stop_start" "$stopped")" "$orphans"
done

printf '%s\n' "${results[@]}" | sort -n | awk '
  { v[NR] = $1 }
  END { printf "cold start to all-healthy: min %.2f s, median %.2f s, max %.2f s over %d runs\n", v[1], v[int((NR + 1) / 2)], v[NR], NR }'
