#!/usr/bin/env bash
# Runs every benchmark program built in build/ (bench_*) one after the other, with its
# baseline inside the same program, and keeps their CSV rows in bench/results/.
# Usage: bench/run.sh [name ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
export ZCP_BENCH_OUT=${ZCP_BENCH_OUT:-bench/results}
mkdir -p "$ZCP_BENCH_OUT"
names=("$@")
if ((${#names[@]} == 0)); then
  for b in build/bench_*; do names+=("${b#build/bench_}"); done
fi
for n in "${names[@]}"; do
  echo "== $n"
  "./build/bench_$n"
  echo
done
