#!/usr/bin/env bash
set -uo pipefail
out=${OUT:-gpu-out}; mkdir -p $out
if [ ! -e /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0 ] && [ -d .deps ]; then
  staging=$(mktemp -d); for deb in .deps/*.deb; do dpkg -x "$deb" "$staging"; done; cp -rn "$staging"/. /; ldconfig
fi
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DTF_CUDA=ON -DTF_BUILD_BENCH=ON >$out/configure.log
time cmake --build build-gpu -j 16 --target cuda_tests conformance_tests autograd_tests gpu_workloads > $out/build.log 2>&1 || { tail -40 $out/build.log; exit 1; }
for t in cuda_tests conformance_tests autograd_tests; do
  filter=(); [ "$t" = autograd_tests ] && filter=(--gtest_filter='AllOps/OpGradient.*')
  build-gpu/tests/*/"$t" --gtest_brief=1 "${filter[@]}" > $out/$t.log 2>&1; tail -3 $out/$t.log
done
build-gpu/bench/gpu_workloads --benchmark_filter="${BENCH:-copy|W1|W2_bf16|W5|W6}" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>&1 | grep -E "median|Error|error" 
python3 -c "
import sys; sys.path.insert(0,'bench/peers'); import torch_gpu as t, torch
torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark = False, True
for f in (${TORCH:-t.w1, t.w5, t.w6}): f()
" 2>&1 | grep RESULT
