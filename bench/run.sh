#!/usr/bin/env bash
# The one command for the benchmarks: installs the peers (bench/setup.sh), builds, then runs
# ours and the peers side by side with 2 threads and writes the table into
# docs/performance.md. Options go to bench/compare.py: --only W1,W7, --skip-w8, --rounds N,
# --no-write.
# OPENBLAS_CORETYPE stays as the environment has it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${BENCH_VENV:-bench/.venv}
bench/setup.sh
scripts/build.sh >&2  # stdout is the table's with --no-write
OMP_NUM_THREADS=2 "$venv/bin/python" bench/compare.py --venv "$venv" "$@"
