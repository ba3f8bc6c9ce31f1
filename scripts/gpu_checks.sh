#!/usr/bin/env bash
# The GPU run, in one call on a machine with an NVIDIA GPU and the CUDA toolkit: builds with the
# CUDA backend, runs the GPU tests (the CUDA backend tests and the conformance checks of every op's values
# and gradients, on the CPU and the GPU) and then the GPU benchmarks side by side with PyTorch
# (bench/gpu_workloads.cpp, bench/peers/torch_gpu.py; the table goes to gpu_table.md). Logs go
# to $OUT (or gpu-out/). Options: --tests-only, --bench-only.
# A machine without Debian's build dependencies gets them from .deps/ (scripts/fetch_gpu_deps.sh
# downloads them here); files the machine already has are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-out}
mkdir -p "$out"
run_tests=1 run_bench=1
case "${1:-}" in
  --tests-only) run_bench=0 ;;
  --bench-only) run_tests=0 ;;
esac

if { [ ! -e /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0 ] ||
  [ ! -e /usr/include/dnnl.h ]; } && [ -d .deps ]; then
  staging=$(mktemp -d)
  for deb in .deps/*.deb; do dpkg -x "$deb" "$staging"; done
  cp -rn "$staging"/. /
  ldconfig
fi

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DTF_CUDA=ON -DTF_BUILD_BENCH=ON \
  >"$out/configure.log"
targets=()
((run_tests)) && targets+=(cuda_tests conformance_tests autograd_tests)
((run_bench)) && targets+=(gpu_workloads tenflowers-train)
cmake --build build-gpu -j "$(nproc)" --target "${targets[@]}" >"$out/build.log" 2>&1 ||
  { tail -50 "$out/build.log"; exit 1; }

status=0
if ((run_tests)); then
  # The backend's own tests, every op's values, and every op's gradients (finite differences),
  # each run on the CPU and the GPU.
  for t in cuda_tests conformance_tests autograd_tests; do
    filter=()
    [ "$t" = autograd_tests ] && filter=(--gtest_filter='AllOps/OpGradient.*')
    build-gpu/tests/*/"$t" --gtest_brief=1 "${filter[@]}" >"$out/$t.log" 2>&1 || status=1
    tail -3 "$out/$t.log"
  done
fi
if ((run_bench)); then
  build-gpu/bench/gpu_workloads --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_out="$out/gpu_workloads.json" --benchmark_out_format=json >"$out/gpu_workloads.log" 2>&1 ||
    status=1
  python3 bench/peers/torch_gpu.py >"$out/torch_gpu.txt" 2>"$out/torch_gpu.log" || status=1
  python3 bench/gpu_compare.py "$out/gpu_workloads.json" "$out/torch_gpu.txt" \
    "$(head -1 "$out/gpu.txt")" | tee "$out/gpu_table.md"
  # W8, the main job, on the GPU and then the CPU: the same accuracy is expected.
  for device in cuda cpu; do
    build-gpu/tools/tenflowers-train --device "$device" >"$out/w8_$device.log" 2>&1 || status=1
    echo "W8 on $device: $(grep -E '^test:|took' "$out/w8_$device.log" | tr '\n' ' ')"
  done
fi
exit $status
