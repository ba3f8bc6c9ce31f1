"""What the peer scripts share: the command line, timing, the result-line output contract and
the Fashion-MNIST reader.

Output contract: stdout carries only lines `RESULT <workload> <variant> <unit> <value>`;
everything else goes to stderr."""
import argparse
import gzip
import math
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W6", "W7")
REPEATS = 5
# A repetition lasts at least this long, so that timer and scheduler noise stay small.
REP_SECONDS = 0.5
QUICK_REP_SECONDS = 0.1
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def parse_w8_args(description):
    """The W8 scripts' command line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="one epoch on the first 6,000 training samples (smoke runs)")
    return parser.parse_args()


def parse_args(description, extra=None):
    """The workload scripts' command line; `extra` may add options to the parser."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--only", default=",".join(ALL_WORKLOADS),
                        help="comma-separated workloads to run, e.g. W3,W7")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true",
                        help="one short repetition per figure (smoke runs)")
    if extra:
        extra(parser)
    args = parser.parse_args()
    args.only = {w.strip().upper() for w in args.only.split(",") if w.strip()}
    unknown = args.only - set(ALL_WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; known: {', '.join(ALL_WORKLOADS)}")
    return args


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def result(workload, variant, unit, value):
    print(f"RESULT {workload} {variant} {unit} {value:.6g}", flush=True)


def seconds_per_call(step, quick=False):
    """Median seconds per call of `step` over REPEATS repetitions (1 when quick), after a
    warm-up that also sizes a repetition to REP_SECONDS."""
    target = QUICK_REP_SECONDS if quick else REP_SECONDS
    calls, start = 0, time.perf_counter()
    while calls < 2 or time.perf_counter() - start < target / 2:
        step()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    calls = max(1, math.ceil(target / per_call))
    runs = []
    for _ in range(1 if quick else REPEATS):
        start = time.perf_counter()
        for _ in range(calls):
            step()
        runs.append((time.perf_counter() - start) / calls)
    return statistics.median(runs)


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_idx(name):
    """One IDX file (gzip'd) of the Fashion-MNIST package as a numpy array."""
    with gzip.open(FASHION_MNIST / f"{name}.gz", "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist(split):
    """(images as f32 in [0, 1] of shape N x 28 x 28, labels as int64) of "train" or "t10k"."""
    images = read_idx(f"{split}-images-idx3-ubyte").astype(np.float32) / 255.0
    labels = read_idx(f"{split}-labels-idx1-ubyte").astype(np.int64)
    return images, labels
