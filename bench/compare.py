"""Runs the standard workloads for tenflowers and its peers side by side on this machine and
writes the table into docs/performance.md (between the bench:begin and bench:end markers).

Ours: every build/bench/bench_* Google Benchmark executable (median aggregate of 5
repetitions; a benchmark `W3_batch512` with a counter `samples_per_s` gives the figure
`W3 batch512 samples_per_s`) and, for W8, build/tools/tenflowers-train. Peers: the scripts in
bench/peers/ run with the Python of bench/.venv (bench/setup.sh makes it); they print
`RESULT <workload> <variant> <unit> <value>` lines. Standard library only.

The machines are noisy, so W1 to W7 run in rounds (five by default; in each, every workload
runs on ours and then on each peer, back to back): a figure is the median over the rounds and a
ratio the median of the rounds' ratios, each taken between runs seconds apart. W8 takes minutes
per side and runs once."""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS_DIR = ROOT / "bench" / "peers"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
OURS = "tenflowers"
WORKLOADS = ("W1", "W2", "W3", "W4", "W6", "W7", "W8")
TITLES = {
    "W1": "y = relu(x*1.5 + 0.25) over 16M f32, eager (n16M) and as a graph (graph_n16M: our "
          "graph::Function, torch.compile, tf.function), and a plain copy as the ceiling",
    "W2": "f32 GEMM 2048³",
    "W3": "MLP 784-1024-1024-10 train step (Adam)",
    "W4": "CNN train step (Adam), batch 256",
    "W6": "Transformer encoder layer d=768, 12 heads, ff 3072, forward+backward",
    "W7": "op-call overhead: 10,000 dependent adds of 1-element tensors",
    "W8": "Fashion-MNIST: the W4 CNN trained 5 epochs, batch 128, Adam 1e-3",
}
FOOTNOTES = {
    "W8": "s_per_epoch is the median over the 5 epochs of the training batches alone (the "
          "test-set evaluation after each epoch is left out, on every side). peak_rss is the "
          "whole process's (for the peers: Python and the framework included).",
}
# Rows of another name shown in a workload's table.
ROW_WORKLOAD = {"copy": "W1"}
LOWER_IS_BETTER = {"us_per_op", "ms_per_step", "s_per_epoch", "MiB"}
# Keys of a Google Benchmark JSON entry that are not user counters.
GBENCH_KEYS = {"name", "family_index", "per_family_instance_index", "run_name", "run_type",
               "repetitions", "repetition_index", "threads", "aggregate_name",
               "aggregate_unit", "iterations", "real_time", "cpu_time", "time_unit",
               "items_per_second", "bytes_per_second", "label", "error_occurred",
               "error_message"}
W8_TIME = re.compile(r"median ([\d.]+) s per epoch without the evaluations")
W8_ACCURACY = re.compile(r"^test:.*\bsparse_categorical_accuracy: ([\d.]+)", re.M)
RESULT_LINE = re.compile(r"^RESULT (\S+) (\S+) (\S+) (\S+)$")


@dataclass
class Peer:
    """A peer column: its scripts in bench/peers/ and the module that gives its version."""
    column: str
    module: str
    script: str
    options: list = field(default_factory=list)
    w8_script: str = ""
    skips: frozenset = frozenset()  # workloads the script does not run in this mode


PEERS = [
    Peer("PyTorch", "torch", "torch_workloads.py", w8_script="w8_torch.py"),
    Peer("TF eager", "tensorflow", "tf_workloads.py"),
    # Keras fit runs its step as a graph, so W8 belongs to the tf.function column.
    Peer("TF function", "tensorflow", "tf_workloads.py", ["--tf-function"], "w8_tf.py",
         frozenset({"W2", "W7"})),
]


def log(message):
    print(f"compare: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- figures


def median_of_pairs(a, b, combine):
    """The median of combine(a[r], b[r]) over the rounds r that both {round: value} have."""
    paired = [combine(a[r], b[r]) for r in sorted(a.keys() & b.keys())]
    paired = [value for value in paired if value is not None]
    return statistics.median(paired) if paired else None


class Figures:
    """Figures by (workload, variant, unit), source column and round, plus notes for the doc.
    Figures of workloads outside `only` are dropped; `add` files under the current `round`."""

    def __init__(self, only=WORKLOADS):
        self.only = set(only)
        self.values = {}
        self.notes = []
        self.round = 0

    def add(self, source, workload, variant, unit, value):
        if ROW_WORKLOAD.get(workload, workload) in self.only:
            by_source = self.values.setdefault((workload, variant, unit), {})
            by_source.setdefault(source, {})[self.round] = value

    def rounds(self, key, source):
        return self.values.get(key, {}).get(source, {})

    def value(self, key, source):
        """The median over the rounds, or None."""
        rounds = self.rounds(key, source)
        return statistics.median(rounds.values()) if rounds else None

    def ratio(self, key, peer):
        """Ours against the peer: the median of the rounds' ratios, or None."""
        return median_of_pairs(self.rounds(key, OURS), self.rounds(key, peer),
                               lambda ours, theirs: ratio(ours, theirs, key[2]))

    def note(self, message):
        if message not in self.notes:  # rounds repeat the same notes
            log(message)
            self.notes.append(message)


def split_name(run_name):
    """Google Benchmark run name `W3_batch512/real_time` -> ("W3", "batch512")."""
    base = run_name.split("/", 1)[0]
    workload, _, variant = base.partition("_")
    return workload, variant or "-"


def parse_gbench(text):
    """(workload, variant, unit, value) of each user counter of each median aggregate."""
    found = []
    for entry in json.loads(text).get("benchmarks", []):
        if entry.get("run_type") != "aggregate" or entry.get("aggregate_name") != "median":
            continue
        workload, variant = split_name(entry.get("run_name", entry["name"]))
        for key, value in entry.items():
            if key not in GBENCH_KEYS and isinstance(value, (int, float)):
                found.append((workload, variant, key, float(value)))
    return found


def parse_results(text):
    """(workload, variant, unit, value) of each RESULT line of a peer script's stdout."""
    found = []
    for line in text.splitlines():
        match = RESULT_LINE.match(line.strip())
        if match:
            workload, variant, unit, value = match.groups()
            try:
                found.append((workload, variant, unit, float(value)))
            except ValueError:
                log(f"ignoring malformed line: {line}")
    return found


def parse_train_output(text):
    """{(workload, variant, unit): value} from tenflowers-train's output."""
    found = {}
    time_match = W8_TIME.search(text)
    if time_match:
        found[("W8", "epoch", "s_per_epoch")] = float(time_match.group(1))
    accuracy_match = W8_ACCURACY.search(text)
    if accuracy_match:
        found[("W8", "test", "accuracy")] = float(accuracy_match.group(1))
    return found


# ---------------------------------------------------------------- running


def child_env(threads):
    env = dict(os.environ)  # OPENBLAS_CORETYPE stays as the environment has it
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def run_capture(command, threads):
    """Runs a command, its stderr going to ours; returns (exit status, stdout, peak RSS MiB).
    os.wait4 gives the child's own rusage, hence its peak resident memory."""
    log(" ".join(str(c) for c in command))
    with subprocess.Popen([str(c) for c in command], stdout=subprocess.PIPE, text=True,
                          env=child_env(threads), cwd=ROOT) as proc:
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, out, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def gbench_filter(only):
    names = sorted(only | {name for name, shown in ROW_WORKLOAD.items() if shown in only})
    return "^(" + "|".join(names) + ")_"


def run_ours_benchmarks(figures, build_dir, only, threads):
    if not only - {"W8"}:
        return
    executables = sorted(p for p in (build_dir / "bench").glob("bench_*")
                         if p.is_file() and os.access(p, os.X_OK))
    if not executables:
        figures.note(f"no benchmark executables in {build_dir / 'bench'}: tenflowers "
                     "figures missing (build with scripts/build.sh)")
    for exe in executables:
        status, out, _ = run_capture(
            [exe, "--benchmark_format=json", "--benchmark_repetitions=5",
             "--benchmark_report_aggregates_only=true",
             f"--benchmark_filter={gbench_filter(only)}"], threads)
        if status == 0 and not out.strip():
            continue  # none of its benchmarks matched the filter
        try:
            parsed = parse_gbench(out)
        except (json.JSONDecodeError, KeyError) as error:
            figures.note(f"{exe.name}: unreadable output (exit {status}): {error}")
            continue
        if status != 0:
            figures.note(f"{exe.name} exited with {status}")
        for workload, variant, unit, value in parsed:
            figures.add(OURS, workload, variant, unit, value)


def run_ours_w8(figures, build_dir, threads):
    exe = build_dir / "tools" / "tenflowers-train"
    if not exe.is_file():
        figures.note(f"{exe} not built: tenflowers W8 missing")
        return
    status, out, peak_mib = run_capture([exe, "--threads", threads], threads)
    if status != 0:
        figures.note(f"tenflowers-train exited with {status}")
        return
    parsed = parse_train_output(out)
    if len(parsed) < 2:
        figures.note("tenflowers-train: could not read its time or accuracy lines")
    for (workload, variant, unit), value in parsed.items():
        figures.add(OURS, workload, variant, unit, value)
    figures.add(OURS, "W8", "peak_rss", "MiB", peak_mib)


def peer_version(python, module):
    """The module's version in the venv, or None when it cannot be imported."""
    if not python.is_file():
        return None
    probe = subprocess.run(
        [str(python), "-c", f"import {module}; print({module}.__version__)"],
        capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    return probe.stdout.strip() if probe.returncode == 0 else None


def run_peer_script(figures, column, command, threads):
    status, out, _ = run_capture(command, threads)
    if status != 0:
        figures.note(f"{column}: {Path(command[1]).name} exited with {status}")
    for workload, variant, unit, value in parse_results(out):
        figures.add(column, workload, variant, unit, value)


def run_peer(figures, peer, python, only, threads, quick):
    script_only = sorted(only - {"W8"} - peer.skips)
    extra = ["--quick"] if quick else []
    if script_only:
        run_peer_script(figures, peer.column,
                        [python, PEERS_DIR / peer.script, "--only", ",".join(script_only),
                         "--threads", threads, *peer.options, *extra], threads)
    if "W8" in only and peer.w8_script:
        run_peer_script(figures, peer.column,
                        [python, PEERS_DIR / peer.w8_script, "--threads", threads, *extra],
                        threads)


def peer_versions(venv):
    """{module: version or None} for each peer's module in the venv."""
    python = venv / "bin" / "python"
    return {m: peer_version(python, m) for m in dict.fromkeys(p.module for p in PEERS)}


def run_peers(figures, venv, versions, only, threads, quick):
    """Runs each installed peer (`versions` from peer_versions)."""
    for peer in PEERS:
        if versions[peer.module] is None:
            figures.note(f"{peer.column}: `{peer.module}` is not installed in {venv} "
                         "(run bench/setup.sh); its figures are missing")
            continue
        run_peer(figures, peer, venv / "bin" / "python", only, threads, quick)


# ---------------------------------------------------------------- the table


def ratio(ours, peer, unit):
    """Ours against the peer, > 1 when we are ahead, or None."""
    if ours is None or peer is None or ours <= 0 or peer <= 0:
        return None
    return peer / ours if unit in LOWER_IS_BETTER else ours / peer


def fmt(value):
    if value is None:
        return "—"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if size >= 1 else f"{value:.4g}"


def fmt_ratio(value):
    return "—" if value is None else f"{value:.2f}"


def workload_rows(figures, workload):
    keys = [k for k in figures.values if ROW_WORKLOAD.get(k[0], k[0]) == workload]
    # Our own rows first (the workload before its ceiling rows), in the order found.
    return sorted(keys, key=lambda k: k[0] != workload)


def workload_table(figures, workload, columns):
    peers = columns[1:]
    lines = [f"### {workload}: {TITLES[workload]}", "",
             "| variant | unit | " + " | ".join(columns) + " | "
             + " | ".join(f"ours vs {p}" for p in peers) + " |",
             "|---|---|" + "---:|" * (len(columns) + len(peers))]
    for key in workload_rows(figures, workload):
        row_workload, variant, unit = key
        arrow = "↓" if unit in LOWER_IS_BETTER else "↑"
        name = variant if row_workload == workload else f"{row_workload} {variant}"
        cells = [fmt(figures.value(key, c)) for c in columns]
        cells += [fmt_ratio(figures.ratio(key, p)) for p in peers]
        lines.append(f"| {name} | {unit} {arrow} | " + " | ".join(cells) + " |")
    return lines


def git_commit():
    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT)
    commit = git("rev-parse", "--short", "HEAD").stdout.strip() or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no").stdout
                     else "")


def machine():
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        text = ""
    model = re.search(r"^Model name:\s*(.+)$", text, re.M)
    return f"{model.group(1).strip() if model else 'unknown CPU'}, {os.cpu_count()} cores"


def header(threads, versions, quick, rounds):
    def version(module):
        return versions.get(module) or "not installed"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    repetitions = "1 repetition (--quick)" if quick else "medians of 5 repetitions"
    return [
        "## Side by side (bench/compare.py)", "",
        f"- Machine: {machine()}. Threads: {threads} (`OMP_NUM_THREADS`, "
        "`torch.set_num_threads`, TF intra-op threads; TF inter-op 1). "
        f"`OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}`.",
        f"- Date: {now}. Commit: {git_commit()}.",
        f"- Peers: PyTorch {version('torch')} (eager); TensorFlow {version('tensorflow')}: "
        "TF eager (GradientTape + apply_gradients, no tf.function) and TF function (the same "
        "steps in tf.function; W8 with Keras fit).",
        f"- Figures: {repetitions} after a warm-up. W1 to W7 ran in {rounds} round(s), each "
        "workload on ours and then on each peer back to back: a figure is the median over the rounds, a ratio the "
        "median of the rounds' ratios. W8 ran once. ↑: higher is better, ↓: lower is better. "
        "\"ours vs X\" is ours / X for ↑ and X / ours for ↓: above 1 means tenflowers is "
        "ahead. — : no figure.",
        "- Regenerate: `bench/run.sh` (options: `--only W1,W7`, `--skip-w8`, `--rounds N`, "
        "`--no-write`).",
    ]


def copy_share_line(figures, columns):
    """W1's bandwidth, eager and as a graph, as a share of the same framework's plain copy (the
    target is 80%): the median of the rounds' shares."""
    shares = []
    for variant in ("n16M", "graph_n16M"):
        for c in columns:
            share = median_of_pairs(figures.rounds(("W1", variant, "GB_per_s"), c),
                                    figures.rounds(("copy", "n16M", "GB_per_s"), c),
                                    lambda w1, copy: w1 / copy if w1 and copy else None)
            if share is not None:
                shares.append(f"{c} {variant} {share:.0%}")
    return ["", "W1 as a share of the same framework's copy: " + ", ".join(shares) + "."] \
        if shares else []


def render(figures, threads, versions, quick, rounds=1):
    columns = [OURS] + [p.column for p in PEERS]
    lines = header(threads, versions, quick, rounds)
    for note in figures.notes:
        lines.append(f"- Note: {note}")
    for workload in WORKLOADS:
        if workload_rows(figures, workload):
            lines += [""] + workload_table(figures, workload, columns)
            if workload == "W1":
                lines += copy_share_line(figures, columns)
            if workload in FOOTNOTES:
                lines += ["", FOOTNOTES[workload]]
    return "\n".join(lines) + "\n"


def write_doc(table, doc=DOC):
    """Puts the table between the markers, creating them above the first section if absent."""
    text = doc.read_text() if doc.exists() else "# Performance\n"
    block = f"{BEGIN}\n{table}{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        first = re.search(r"^## ", text, re.M)
        at = first.start() if first else len(text)
        text = text[:at] + block + "\n\n" + text[at:]
    doc.write_text(text)


# ---------------------------------------------------------------- main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W7 (default: all)")
    parser.add_argument("--skip-w8", action="store_true", help="skip W8 (it takes minutes)")
    parser.add_argument("--no-write", action="store_true",
                        help="print the table instead of writing docs/performance.md")
    parser.add_argument("--build-dir", default=ROOT / "build", type=Path,
                        help="the CMake build folder (default build)")
    parser.add_argument("--venv", default=os.environ.get("BENCH_VENV", ROOT / "bench" / ".venv"),
                        type=Path, help="the peers' venv (default $BENCH_VENV or bench/.venv)")
    parser.add_argument("--doc", default=DOC, type=Path, help="the file to write the table into")
    parser.add_argument("--threads", default="2")
    parser.add_argument("--quick", action="store_true",
                        help="peers do one short repetition (smoke runs; ours unchanged)")
    parser.add_argument("--rounds", default=5, type=int,
                        help="rounds of W1 to W7, ours and the peers in each (default 5)")
    args = parser.parse_args(argv)
    only = {w.strip().upper() for w in (args.only or ",".join(WORKLOADS)).split(",")}
    unknown = only - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; known: {', '.join(WORKLOADS)}")
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    args.only = only - ({"W8"} if args.skip_w8 else set())
    # Relative paths are the caller's; the children run in the repository root.
    args.build_dir, args.venv = args.build_dir.resolve(), Path(args.venv).absolute()
    return args


def main(argv=None):
    args = parse_args(argv)
    figures = Figures(args.only)
    versions = peer_versions(args.venv)
    short = args.only - {"W8"}
    for round_index in range(args.rounds):
        figures.round = round_index
        for workload in sorted(short):
            run_ours_benchmarks(figures, args.build_dir, {workload}, args.threads)
            run_peers(figures, args.venv, versions, {workload}, args.threads, args.quick)
    if "W8" in args.only:
        figures.round = 0
        run_ours_w8(figures, args.build_dir, args.threads)
        run_peers(figures, args.venv, versions, {"W8"}, args.threads, args.quick)
    table = render(figures, args.threads, versions, args.quick, args.rounds)
    if args.no_write:
        print(table, end="")
    else:
        write_doc(table, args.doc)
        log(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
