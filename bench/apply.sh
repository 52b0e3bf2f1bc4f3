#!/usr/bin/env bash
# Apply benchmark (issue 8, "Speed"): builds `apply-bench` in release and
# runs it once with the defaults: 200 listeners per API over 4 instances,
# the emulator in-process on 127.0.0.1 with the vendors' rate limits and a
# 1 s asynchronous create delay, the optimized mode and then the naive one
# (one call per listener, one at a time). Prints, per API: listeners, create
# calls, all calls, wall time, the lower bound, time/bound, throttling seen
# by the user and absorbed by retries. Exit status: 0 when every optimized
# ratio is below 1.2 and no throttling error reached the user, 1 otherwise,
# 2 on bad arguments, 3 (or 124 from `timeout`) when the run took too long.
#
# Extra arguments go to the bench, e.g.
#   bench/apply.sh --provider tencent-clb --create-delay-ms 2000
#   bench/apply.sh --max-concurrency 1 --no-batch     # the naive mode as the main run
# See docs/performance.md for the model of the bound and a recorded run.
#
# Then the multi-profile mode (unless SKIP_MULTI=1): one profile per API
# and three GA profiles (instances of one account), 50 listeners each,
# applied together as `listenerctl apply --all-profiles` does; it prints
# time over the slowest profile's own bound (target below 1.2).
#
# Afterwards it runs the full fault soak (1,000 listeners over the four
# APIs with every fault kind injected at random), unless SKIP_SOAK=1.
set -euo pipefail

cd "$(dirname "$0")/.."

# The whole run is bounded: the bench gives up on its own after
# BENCH_TIMEOUT_SECS, and `timeout` stops it for good shortly after. The
# emulator lives inside the bench process, so it stops with it.
limit="${BENCH_TIMEOUT_SECS:-1800}"

cargo build --release --quiet -p apply-bench
bin="${CARGO_TARGET_DIR:-target}/release/apply-bench"

status=0
timeout --kill-after=10 "$((limit + 30))" "$bin" --naive-too --timeout-secs "$limit" "$@" || status=$?

if [ "${SKIP_MULTI:-0}" != 1 ]; then
  echo
  echo "== multi-profile: every API's profile and 3 GA profiles applied together"
  timeout --kill-after=10 "$((limit + 30))" "$bin" --multi-profile --timeout-secs "$limit" || status=$?
fi

if [ "${SKIP_SOAK:-0}" != 1 ]; then
  echo
  echo "== fault soak: 1,000 listeners, every fault kind at random"
  timeout --kill-after=10 900 cargo test --release --quiet --test soak soak_full -- --ignored --nocapture || status=$?
fi
exit "$status"
