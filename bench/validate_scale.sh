#!/usr/bin/env bash
# Wall time of `listenerctl validate` (release build) at 1k / 10k / 50k
# listeners and on the hostile files of issue 11, with the growth ratios.
# Linear growth: each 10k/1k ratio near 10 and 50k/10k near 5.
# Usage: bench/validate_scale.sh [path/to/listenerctl]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --release -q -p listenerctl)
  bin="$root/target/release/listenerctl"
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
secs() { # seconds of one run, exit code ignored
  local s e
  s=$(date +%s.%N); "$bin" validate -f "$1" >/dev/null 2>&1 || true; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
for fmt in toml yaml; do
  declare -A t=()
  for n in 1000 10000 50000; do
    python3 "$root/bench/gen_listeners.py" listeners "$n" "$dir/l$n.$fmt"
    t[$n]=$(secs "$dir/l$n.$fmt")
    printf '%s %6d listeners: %7.3f s  (%5.1f us/listener)\n' "$fmt" "$n" "${t[$n]}" "$(echo "${t[$n]} * 1000000 / $n" | bc -l)"
  done
  printf '%s ratios: 10k/1k = %.1f (linear: 10), 50k/10k = %.1f (linear: 5)\n' "$fmt" \
    "$(echo "${t[10000]} / ${t[1000]}" | bc -l)" "$(echo "${t[50000]} / ${t[10000]}" | bc -l)"
  unset t
done
python3 "$root/bench/gen_listeners.py" nested 200000 "$dir/nested.yaml"
printf 'nested brackets, 200 KB YAML: refused in %.3f s\n' "$(secs "$dir/nested.yaml")"
