#!/usr/bin/env bash
# The README's main command: set up, build, and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec build/tools/tenflowers-train "$@"
