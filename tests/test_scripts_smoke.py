"""Smoke tests, on tiny slices, of the scripts and the benchmark behind the README's numbers:
each runs to the end, prints its result line and, where the README relies on it, a number that
shows real work (the book's network learns; network2 equals the book's loop to rounding).

The full runs (minutes to an hour) are what the README quotes; these take seconds and catch a
script that no longer starts, parses its options or reaches its report.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(script: str, *argv: str, env: dict | None = None) -> str:
    """Run the script as a user would; assert it exits 0 and return what it printed."""
    done = subprocess.run([sys.executable, str(ROOT / script), *argv], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def test_book_network_learns_in_one_epoch(fashion_mnist_dir):
    out = run_script("scripts/book_network.py", "--data-dir", str(fashion_mnist_dir), "--recipe", "fixed",
                     "--epochs", "1", "--hidden", "10", "--floor", "0")
    test_accuracy = float(re.search(r"^fixed\s+0\s+(\d\.\d+)", out, re.M).group(1))
    assert test_accuracy > 0.5, out  # one epoch of the book's network on all 60,000 images: ~0.8


def test_benchmark_classic_equals_the_books_loop(fashion_mnist_dir, tmp_path):
    """bench.py's classic-b10 workload, quick, on 200 images: both contenders run in their own
    processes, the table is printed, and network2's weights equal the book's loop's."""
    path = tmp_path / "bench.json"
    out = run_script("benchmarks/bench.py", "--quick", "--workloads", "classic-b10", "--images", "200",
                     "--threads", "default", "--json", str(path), env={"GLASSNET_DATA": str(fashion_mnist_dir.parent)})
    (result,) = json.loads(path.read_text())["results"]
    assert result["workload"] == "classic-b10" and result["ratio_glassnet_time_over_other"] > 0
    assert result["max_abs_weight_difference"] < 1e-12
    assert "ratio = glassnet time / other time" in out


def test_finetune_mnist_runs_a_cell_and_tabulates_seeds_with_intervals(mnist, tmp_path):
    """One cell of the README's fine-tuning grid (frozen zoo body, 2 digits per class, 100 test images), and the
    table's 95% t-intervals and paired differences on made-up cells."""
    path = tmp_path / "ft.json"
    out = run_script("scripts/finetune_mnist.py", "--per-class", "2", "--strategies", "frozen", "--seeds", "0",
                     "--data-dir", str(mnist), "--test-limit", "100", "--runs", str(tmp_path / "runs"),
                     "--out", str(path))
    (cell,) = json.loads(path.read_text())["cells"]
    assert cell["strategy"] == "frozen" and 0 <= cell["test_accuracy"] <= 1 and "body_sha256" in cell
    assert "| 2 | " in out and "(1 seed)" in out
    import importlib.util
    spec = importlib.util.spec_from_file_location("finetune_mnist", ROOT / "scripts/finetune_mnist.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    cells = [{"per_class": 10, "strategy": s, "seed": seed, "test_accuracy": a}
             for s, accuracies in (("frozen", (0.5, 0.6, 0.7)), ("finetuned", (0.8, 0.8, 0.9)),
                                   ("scratch", (0.7, 0.75, 0.8)))
             for seed, a in enumerate(accuracies)]
    row = script.table(cells).splitlines()[-1]
    # frozen 60 ± t(0.975, 2)·10/√3 = 24.84; finetuned − scratch: +10, +5, +10 → +8.33 ± 7.17
    assert row.startswith("| 10 | 60.00 ± 24.84% (3 seeds) | 83.33 ± ") and "+8.33 ± 7.17% (3 seeds)" in row, row
