#!/usr/bin/env bash
# Creates the peers' Python environment for the benchmarks and installs PyPI torch,
# tensorflow-cpu 2.21 and numpy into it. Idempotent: installs only what is missing.
# Not part of the test setup; bench/run.sh calls it.
# Environment: BENCH_VENV (default bench/.venv), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${BENCH_VENV:-bench/.venv}
py=$venv/bin/python

if [ ! -x "$py" ]; then
  echo "bench/setup.sh: creating $venv" >&2
  "${PYTHON:-python3}" -m venv "$venv"
fi

# "distribution requirement" pairs: the name importlib.metadata knows, and what pip installs.
wanted=(
  "numpy numpy"
  "torch torch"
  "tensorflow-cpu tensorflow-cpu==2.21.*"
)

# Prints the version of an installed distribution; fails when it is not installed.
installed_version() {
  "$py" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" \
    2>/dev/null
}

missing=()
for pair in "${wanted[@]}"; do
  read -r dist requirement <<<"$pair"
  version=$(installed_version "$dist") || version=
  case "$requirement" in
    *==2.21.*) [[ "$version" == 2.21.* ]] || missing+=("$requirement") ;;
    *) [ -n "$version" ] || missing+=("$requirement") ;;
  esac
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/setup.sh: installing ${missing[*]} into $venv" >&2
  "$py" -m pip install "${missing[@]}" >&2  # stdout belongs to compare.py's table
fi
