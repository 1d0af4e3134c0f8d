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


def _accuracies(text: str) -> list[float]:
    return [float(a) for a in re.findall(r"TEST accuracy[^\n]*?(\d\.\d{4})", text)]


def test_train_resnet_on_a_tiny_slice(fashion_mnist_dir):
    out = run_script("scripts/train_resnet.py", "--data-dir", str(fashion_mnist_dir), "--epochs", "1",
                     "--limit", "128", "--widths", "4,8,8", "--blocks", "1", "--batch-size", "64", "--floor", "0")
    accuracies = _accuracies(out)
    assert len(accuracies) == 2 and all(0 <= a <= 1 for a in accuracies)  # 28×28 and 32×32 padded


def test_train_cnn_on_a_tiny_slice(fashion_mnist_dir):
    out = run_script("scripts/train_cnn.py", "--data-dir", str(fashion_mnist_dir), "--model", "spp", "--epochs", "1",
                     "--limit", "256", "--batch-size", "64", "--floor", "0")
    accuracies = _accuracies(out)
    assert len(accuracies) == 2 and all(0 <= a <= 1 for a in accuracies)  # 28×28, and 32×32 with the same weights


def test_train_textcnn_on_a_tiny_slice(shared_data):
    out = run_script("scripts/train_textcnn.py", "--data-dir", str(shared_data("rt-polarity")), "--modes", "rand",
                     "--epochs", "1", "--limit", "300", "--maps", "4", "--dim", "8", "--floor", "0")
    accuracies = _accuracies(out)
    assert len(accuracies) == 1 and 0 <= accuracies[0] <= 1


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
                     "--json", str(path), env={"GLASSNET_DATA": str(fashion_mnist_dir.parent)})
    (result,) = json.loads(path.read_text())["results"]
    assert result["workload"] == "classic-b10" and result["ratio_glassnet_time_over_other"] > 0
    assert result["max_abs_weight_difference"] < 1e-12
    assert "ratio = glassnet time / other time" in out
