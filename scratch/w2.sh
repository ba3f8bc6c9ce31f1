#!/usr/bin/env bash
# throwaway: which gemm kernels do we and PyTorch run for W2 bf16
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
$NCU --clock-control none --metrics gpu__time_duration.sum -k regex:"gemm|xmma|cutlass|sm90|Kernel" --launch-skip 1 --launch-count 2 build-gpu/bench/gpu_workloads --benchmark_filter=W2_bf16 --benchmark_min_time=0.05s 2>&1 | grep -E "gemm|Kernel|kernel|duration" | head -8
cat > /tmp/tb.py <<'PY'
import torch
a = torch.rand(8192, 8192, device="cuda", dtype=torch.bfloat16) * 2 - 1
b = torch.rand(8192, 8192, device="cuda", dtype=torch.bfloat16) * 2 - 1
for _ in range(4): a @ b
torch.cuda.synchronize()
PY
$NCU --clock-control none --metrics gpu__time_duration.sum -k regex:"gemm|xmma|cutlass|sm90|Kernel" --launch-skip 1 --launch-count 2 python3 /tmp/tb.py 2>&1 | grep -E "gemm|Kernel|kernel|duration" | head -8
