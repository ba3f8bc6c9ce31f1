#!/usr/bin/env bash
# Builds and runs the benchmarks with 2 threads and prints median figures (5 repetitions).
# Usage: bench/run.sh [benchmark filter regex]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
export OMP_NUM_THREADS=2
filter=${1:-.}
for exe in build/bench/bench_*; do
  "$exe" --benchmark_filter="$filter" --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true --benchmark_display_aggregates_only=true |
    grep -E "median|Benchmark|----"
done
