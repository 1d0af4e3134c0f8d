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


def test_benchmark_time_to_accuracy_row(fashion_mnist_dir, tmp_path):
    """bench.py's opt-in resnet14-tta93 workload on one batch of 128 images and 100 test images,
    with the target at 0: each contender stops after its first epoch and the row says so."""
    path = tmp_path / "bench.json"
    out = run_script("benchmarks/bench.py", "--workloads", "resnet14-tta93", "--images", "128", "--epochs", "1",
                     "--target", "0", "--test-images", "100", "--threads", "1", "--json", str(path),
                     env={"GLASSNET_DATA": str(fashion_mnist_dir.parent)})
    (result,) = json.loads(path.read_text())["results"]
    assert result["workload"] == "resnet14-tta93"
    for name, t in result["time_to_accuracy"].items():
        assert t["reached"] and t["epochs_to_target"] == 1 and len(t["test_accuracies"]) == 1, (name, t)
        assert result["contenders"][name]["runs"][0]["images"] == 128
    assert "0% test accuracy: glassnet" in out
