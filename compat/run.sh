#!/usr/bin/env bash
# The compatibility suite: the vendors' official Python SDKs against the
# listener-emulator binary on 127.0.0.1. Needs python3 (3.11) and PyPI.
# The virtual environment (compat/.venv, git-ignored) is made once and
# reused while requirements.txt is unchanged, so re-runs only build and run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=compat/.venv
stamp=$venv/.requirements.sha256
want=$(sha256sum compat/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "compat: installing the pinned SDKs into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r compat/requirements.txt
    echo "$want" > "$stamp"
fi

cargo build -q -p listener-emulator --bin listener-emulator
bin=${CARGO_TARGET_DIR:-$root/target}/debug/listener-emulator
work=$(mktemp -d)
log=$work/emulator.log
"$bin" serve --port 0 --no-rate-limits --config compat/emulator.toml > "$work/url" 2> "$log" &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    [ -s "$work/url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
done
url=$(head -1 "$work/url")
status=0
"$venv/bin/python" -W ignore::DeprecationWarning compat/compat.py "$url" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "compat: emulator log (last 40 lines):" >&2
    tail -40 "$log" >&2
fi
exit "$status"
