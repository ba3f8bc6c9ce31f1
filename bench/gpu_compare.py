"""The GPU side-by-side table: tenflowers' gpu_workloads (Google Benchmark JSON) against
PyTorch's bench/peers/torch_gpu.py (RESULT lines), as markdown for docs/performance.md.
Usage: gpu_compare.py OURS.json TORCH.txt GPU_NAME. Standard library only."""
import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import LOWER_IS_BETTER, fmt, fmt_ratio, git_commit, parse_gbench, parse_results, ratio  # noqa: E402

ORDER = ["copy", "H2D", "W1", "W2", "W3", "W4", "W5", "W6", "W7"]


def table(ours, torch, gpu):
    figures = {}
    for source, found in (("ours", ours), ("torch", torch)):
        for workload, variant, unit, value in found:
            figures.setdefault((workload, variant, unit), {})[source] = value
    lines = [f"- GPU: {gpu}. Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} "
             f"UTC. Commit: {git_commit()}.",
             "- Figures: medians of 5 repetitions after a warm-up; ours by wall clock with a device "
             "synchronization per iteration, PyTorch's by CUDA events. ↑: higher is better, ↓: "
             "lower is better; ratio above 1: tenflowers ahead.", "",
             "| workload | variant | unit | tenflowers | PyTorch | ours vs PyTorch |",
             "|---|---|---|---:|---:|---:|"]
    for key in sorted(figures, key=lambda k: (ORDER.index(k[0]) if k[0] in ORDER else 99, k)):
        workload, variant, unit = key
        arrow = "↓" if unit in LOWER_IS_BETTER else "↑"
        a, b = figures[key].get("ours"), figures[key].get("torch")
        lines.append(f"| {workload} | {variant} | {unit} {arrow} | {fmt(a)} | {fmt(b)} | "
                     f"{fmt_ratio(ratio(a, b, unit))} |")
    return "\n".join(lines)


def main():
    ours_json, torch_txt, gpu = sys.argv[1:4]
    ours = parse_gbench(Path(ours_json).read_text())
    torch = parse_results(Path(torch_txt).read_text())
    print(table(ours, torch, gpu))


if __name__ == "__main__":
    main()
