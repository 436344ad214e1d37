#!/bin/sh
# Runs each sharing benchmark once in its quick mode (tiny sizes, few rounds) so that
# the programs cannot rot: every one exits non-zero when a call fails or a result is
# wrong. The figures are thrown away. Usage: bench/smoke.sh <build dir>
set -eu
bin=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for b in table_create share_vs_copy descriptor hugetable_scan open_rows; do
  echo "== $b (quick)"
  ZCP_BENCH_QUICK=1 ZCP_BENCH_OUT=$out "$bin/bench_$b"
done
