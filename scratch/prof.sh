#!/usr/bin/env bash
# throwaway: profile W6 kernels, ours (ncu) and PyTorch (torch.profiler)
set -uo pipefail
out=${OUT:-gpu-out}; mkdir -p $out
if [ ! -e /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0 ] && [ -d .deps ]; then
  staging=$(mktemp -d); for deb in .deps/*.deb; do dpkg -x "$deb" "$staging"; done; cp -rn "$staging"/. /; ldconfig
fi
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DTF_CUDA=ON -DTF_BUILD_BENCH=ON >$out/configure.log
time cmake --build build-gpu -j 16 --target gpu_workloads > $out/build.log 2>&1 || { tail -40 $out/build.log; exit 1; }
build-gpu/bench/gpu_workloads --benchmark_filter='W6' --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>&1 | tail -4
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1); echo ncu=$NCU; timeout 300 $NCU --clock-control none --metrics gpu__time_duration.sum --csv --launch-skip 0 --launch-count 2500 \
  build-gpu/bench/gpu_workloads --benchmark_filter='W6' --benchmark_min_time=0.01 > $out/ncu.csv 2> $out/ncu.err
python3 scratch/agg.py $out/ncu.csv | head -40
python3 scratch/torch_prof.py 2>&1 | tail -45
