#!/usr/bin/env bash
# The README's test command: set up, build, and run every test (ctest), then the same tests
# under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
scripts/build.sh
# ctest runs as many tests as cores: OpenMP workers that spin while idle (libgomp's default) would
# take cores from the other tests.
export OMP_WAIT_POLICY=passive
(cd build && ctest --output-on-failure -j "$(nproc)")
if [ "${TF_SKIP_SANITIZE:-0}" != 1 ]; then
  scripts/build.sh --sanitize
  (cd build-sanitize && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$(nproc)" -LE nosanitize)
fi
