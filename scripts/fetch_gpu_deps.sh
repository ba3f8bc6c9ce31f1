#!/usr/bin/env bash
# Downloads into .deps/ the Debian packages that scripts/gpu_checks.sh installs on a GPU machine
# that has the CUDA toolkit but not tenflowers' build dependencies (and cannot download them),
# with Fashion-MNIST for the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .deps
cd .deps
apt-get download libopenblas0-openmp libopenblas-openmp-dev libgfortran5 libdnnl2 libdnnl-dev ocl-icd-libopencl1 libsleef3 libsleef-dev \
  libgtest-dev libgmock-dev libbenchmark1debian libbenchmark-dev nlohmann-json3-dev libzip4 \
  libzip-dev zlib1g-dev dataset-fashion-mnist
