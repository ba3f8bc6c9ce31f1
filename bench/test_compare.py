"""Tests of bench/compare.py's parsing and table writing, on a fake Google Benchmark JSON and
fake executables (no build needed): python3 -m unittest bench/test_compare.py"""
import json
import os
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402

# The shape of `--benchmark_format=json --benchmark_repetitions=5
# --benchmark_report_aggregates_only=true` output (values made up).
FAKE_GBENCH = {
    "context": {"date": "2026-11-28T10:00:00+00:00", "num_cpus": 2, "library_build_type":
                "release"},
    "benchmarks": [
        {"name": "W7_no_tape_mean", "family_index": 0, "per_family_instance_index": 0,
         "run_name": "W7_no_tape", "run_type": "aggregate", "repetitions": 5, "threads": 1,
         "aggregate_name": "mean", "aggregate_unit": "time", "iterations": 5,
         "real_time": 108.0, "cpu_time": 107.0, "time_unit": "ms", "us_per_op": 10.8},
        {"name": "W7_no_tape_median", "family_index": 0, "per_family_instance_index": 0,
         "run_name": "W7_no_tape", "run_type": "aggregate", "repetitions": 5, "threads": 1,
         "aggregate_name": "median", "aggregate_unit": "time", "iterations": 5,
         "real_time": 107.5, "cpu_time": 107.0, "time_unit": "ms",
         "items_per_second": 93023.0, "us_per_op": 10.75},
        {"name": "W7_no_tape_cv", "family_index": 0, "per_family_instance_index": 0,
         "run_name": "W7_no_tape", "run_type": "aggregate", "repetitions": 5, "threads": 1,
         "aggregate_name": "cv", "aggregate_unit": "percentage", "iterations": 5,
         "real_time": 0.01, "cpu_time": 0.01, "time_unit": "ms", "us_per_op": 0.01},
        {"name": "W3_batch512/real_time_median", "family_index": 1,
         "per_family_instance_index": 0, "run_name": "W3_batch512/real_time",
         "run_type": "aggregate", "repetitions": 5, "threads": 1, "aggregate_name": "median",
         "aggregate_unit": "time", "iterations": 20, "real_time": 40.0, "cpu_time": 79.0,
         "time_unit": "ms", "samples_per_s": 12800.0},
        {"name": "W3_batch32", "run_name": "W3_batch32", "run_type": "iteration",
         "repetitions": 5, "repetition_index": 0, "threads": 1, "iterations": 100,
         "real_time": 1.0, "cpu_time": 1.0, "time_unit": "ms", "samples_per_s": 1.0},
    ],
}
TRAIN_OUTPUT = """Epoch 5/5
469/469 - 15s - loss: 0.2 - sparse_categorical_accuracy: 0.93 - val_loss: 0.25 - \
val_sparse_categorical_accuracy: 0.9102
test: loss: 0.2501 - sparse_categorical_accuracy: 0.9102
training took 84.5 s (16.9 s per epoch; median 16.10 s per epoch without the evaluations)
"""


def executable(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


class ParsingTest(unittest.TestCase):
    def test_gbench_keeps_median_user_counters_only(self):
        found = compare.parse_gbench(json.dumps(FAKE_GBENCH))
        self.assertEqual(found, [("W7", "no_tape", "us_per_op", 10.75),
                                 ("W3", "batch512", "samples_per_s", 12800.0)])

    def test_split_name(self):
        self.assertEqual(compare.split_name("W7_tape_and_backward"), ("W7", "tape_and_backward"))
        self.assertEqual(compare.split_name("W2_n2048/iterations:3"), ("W2", "n2048"))
        self.assertEqual(compare.split_name("W9"), ("W9", "-"))

    def test_result_lines(self):
        text = "RESULT W3 batch512 samples_per_s 7812.3\nnoise\nRESULT W7 tape us_per_op 4.5\n"
        self.assertEqual(compare.parse_results(text),
                         [("W3", "batch512", "samples_per_s", 7812.3),
                          ("W7", "tape", "us_per_op", 4.5)])

    def test_train_output(self):
        self.assertEqual(compare.parse_train_output(TRAIN_OUTPUT),
                         {("W8", "epoch", "s_per_epoch"): 16.1,
                          ("W8", "test", "accuracy"): 0.9102})

    def test_ratio_is_above_one_when_ahead(self):
        self.assertAlmostEqual(compare.ratio(200.0, 100.0, "samples_per_s"), 2.0)
        self.assertAlmostEqual(compare.ratio(1.0, 3.0, "us_per_op"), 3.0)
        self.assertIsNone(compare.ratio(None, 3.0, "us_per_op"))


class TableTest(unittest.TestCase):
    def figures(self):
        figures = compare.Figures()
        figures.add("tenflowers", "W7", "no_tape", "us_per_op", 10.8)
        figures.add("PyTorch", "W7", "no_tape", "us_per_op", 3.0)
        figures.add("PyTorch", "W1", "n16M", "GB_per_s", 5.0)
        figures.add("PyTorch", "copy", "n16M", "GB_per_s", 10.0)
        return figures

    def test_table_rows_and_missing_figures(self):
        table = compare.render(self.figures(), "2", {"torch": "2.15.0"}, quick=False)
        self.assertIn("| no_tape | us_per_op ↓ | 10.8 | 3.00 | — | — | 0.28 | — | — |",
                      table)
        self.assertIn("| copy n16M | GB_per_s ↑ | — | 10.0 |", table)
        self.assertIn("W1 as a share of the same framework's copy: PyTorch n16M 50%.", table)
        self.assertIn("TensorFlow not installed", table)
        self.assertNotIn("### W2", table)

    def test_rounds_give_medians_and_the_median_of_paired_ratios(self):
        figures = compare.Figures()
        # Per round: ours/PyTorch 2.0, 0.5, 1.0 (median 1.0); the medians' ratio would be 20/30.
        for round_index, (ours, theirs, copy) in enumerate([(10, 5, 20), (20, 40, 25),
                                                            (30, 30, 40)]):
            figures.round = round_index
            figures.add("tenflowers", "W1", "graph_n16M", "GB_per_s", ours)
            figures.add("PyTorch", "W1", "graph_n16M", "GB_per_s", theirs)
            figures.add("tenflowers", "copy", "n16M", "GB_per_s", copy)
        table = compare.render(figures, "2", {}, quick=False, rounds=3)
        self.assertIn("| graph_n16M | GB_per_s ↑ | 20.0 | 30.0 | — | — | 1.00 | — | — |",
                      table)
        # Shares per round 50%, 80%, 75%: the median is 75% (the medians' share would be 80%).
        self.assertIn("tenflowers graph_n16M 75%", table)
        self.assertIn("3 round(s)", table)

    def test_a_round_missing_on_one_side_is_left_out_of_the_ratio(self):
        figures = compare.Figures()
        figures.add("tenflowers", "W7", "tape", "us_per_op", 1.0)
        figures.add("PyTorch", "W7", "tape", "us_per_op", 4.0)
        figures.round = 1
        figures.add("tenflowers", "W7", "tape", "us_per_op", 3.0)
        self.assertAlmostEqual(figures.ratio(("W7", "tape", "us_per_op"), "PyTorch"), 4.0)
        self.assertAlmostEqual(figures.value(("W7", "tape", "us_per_op"), "tenflowers"), 2.0)

    def test_write_doc_creates_then_replaces_the_block(self):
        with tempfile.TemporaryDirectory() as tmp:
            doc = Path(tmp) / "performance.md"
            doc.write_text("# Performance\n\nIntro.\n\n## W7 history\n\nOld table.\n")
            compare.write_doc("first\n", doc)
            compare.write_doc("second\n", doc)
            text = doc.read_text()
        self.assertEqual(text, "# Performance\n\nIntro.\n\n<!-- bench:begin -->\nsecond\n"
                               "<!-- bench:end -->\n\n## W7 history\n\nOld table.\n")


class EndToEndTest(unittest.TestCase):
    def test_fake_build_and_no_peers(self):
        with tempfile.TemporaryDirectory() as tmp:
            build = Path(tmp) / "build"
            executable(build / "bench" / "bench_fake",
                       f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(FAKE_GBENCH)}\nEOF\n")
            executable(build / "tools" / "tenflowers-train",
                       f"#!/bin/sh\ncat <<'EOF'\n{TRAIN_OUTPUT}EOF\n")
            doc = Path(tmp) / "performance.md"
            compare.main(["--build-dir", str(build), "--venv", str(Path(tmp) / "none"),
                          "--only", "W3,W7,W8", "--doc", str(doc)])
            text = doc.read_text()
        self.assertIn("| no_tape | us_per_op ↓ | 10.8 | — |", text)
        self.assertIn("| batch512 | samples_per_s ↑ | 12,800 | — |", text)
        self.assertIn("| epoch | s_per_epoch ↓ | 16.1 |", text)
        self.assertIn("| test | accuracy ↑ | 0.9102 |", text)
        self.assertIn("| peak_rss | MiB ↓ |", text)
        self.assertIn("`torch` is not installed", text)

    def test_each_workload_runs_on_ours_then_on_each_peer_back_to_back(self):
        with tempfile.TemporaryDirectory() as tmp:
            calls = Path(tmp) / "calls.txt"
            build = Path(tmp) / "build"
            # The filter is the last argument of ours; a peer's workloads follow its --only.
            executable(build / "bench" / "bench_fake",
                       f'#!/bin/sh\nfor last; do :; done\necho "ours $last" >> {calls}\n')
            venv = Path(tmp) / "venv"
            executable(venv / "bin" / "python",
                       '#!/bin/sh\n[ "$1" = -c ] && { echo 1.0; exit 0; }\n'
                       f'echo "$(basename "$1") $3" >> {calls}\n')
            compare.main(["--build-dir", str(build), "--venv", str(venv), "--only", "W2,W3",
                          "--skip-w8", "--rounds", "2", "--doc", str(Path(tmp) / "doc.md")])
            lines = calls.read_text().splitlines()
        one_round = ["ours --benchmark_filter=^(W2)_", "torch_workloads.py W2",
                     "tf_workloads.py W2", "ours --benchmark_filter=^(W3)_",
                     "torch_workloads.py W3", "tf_workloads.py W3", "tf_workloads.py W3"]
        self.assertEqual(lines, one_round * 2)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    unittest.main()
