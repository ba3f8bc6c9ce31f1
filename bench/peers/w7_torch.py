"""W7 for PyTorch: 10,000 dependent adds of 1-element tensors, without and with autograd
recording, and with the backward pass. Prints the median microseconds per op of 5 runs."""
import statistics
import sys
import time

import torch

CHAIN = 10_000
REPEATS = 5


def chain(requires_grad, backward):
    one = torch.ones(1)
    x = torch.zeros(1, requires_grad=requires_grad)
    start = time.perf_counter()
    y = x
    for _ in range(CHAIN):
        y = y + one
    if backward:
        y.backward()
    return (time.perf_counter() - start) / CHAIN * 1e6


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    for name, grad, backward in [("no_tape", False, False), ("tape", True, False),
                                 ("tape_and_backward", True, True)]:
        chain(grad, backward)  # warm-up
        runs = [chain(grad, backward) for _ in range(REPEATS)]
        print(f"torch {torch.__version__} W7 {name}: {statistics.median(runs):.3f} us/op")


if __name__ == "__main__":
    main()
