"""Smoke tests, on tiny slices, of the scripts and the benchmark behind the README's numbers:
each runs to the end, prints its result line and, where the README relies on it, a number that
shows real work (the book's network learns; network2 equals the book's loop to rounding; the
ONNX export predicts what glassnet predicts).

The full runs (minutes to an hour) are what the README quotes; these take seconds and catch a
script that no longer starts, parses its options or reaches its report.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    """bench.py's classic-b10 and classic1-b10 workloads, quick, on 200 images: both contenders
    run in their own processes, the table is printed, and network2's (chapter 3) and network's
    (chapter 1) weights equal the per-example reference's."""
    path = tmp_path / "bench.json"
    out = run_script("benchmarks/bench.py", "--quick", "--workloads", "classic-b10,classic1-b10", "--images", "200",
                     "--threads", "default", "--json", str(path), env={"GLASSNET_DATA": str(fashion_mnist_dir.parent)})
    results = json.loads(path.read_text())["results"]
    assert [r["workload"] for r in results] == ["classic-b10", "classic1-b10"]
    for result in results:
        assert result["ratio_glassnet_time_over_other"] > 0
        assert result["max_abs_weight_difference"] < 1e-12, result["workload"]
    assert "ratio = glassnet time / other time" in out


def test_chapter6_runs_a_step(fashion_mnist_dir, tmp_path):
    """scripts/chapter6.py, its first step (the fully connected net) for 1 epoch on 200 images:
    the per-step JSON and the table the README's chapter-6 numbers come from."""
    out = run_script("scripts/chapter6.py", "--steps", "fc", "--seeds", "0", "--epochs", "1", "--train-size", "200",
                     "--out", str(tmp_path), env={"GLASSNET_DATA": str(fashion_mnist_dir.parent)})
    step = json.loads((tmp_path / "fc.json").read_text())
    assert step["training_images"] == 200 and step["epochs"] == 1 and len(step["per_seed"]) == 1
    assert step["test_accuracy_mean"] > 10, out  # above chance (10%) after one epoch of 200 images
    assert "| fc |" in (tmp_path / "table.md").read_text()


def test_onnx_check_agrees_with_onnxruntime(fashion_mnist_dir):
    """scripts/onnx_check.py on a briefly trained MLP: onnxruntime's predictions on the 10,000
    test images are glassnet's."""
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install 'glassnet[onnx]')")
    out = run_script("scripts/onnx_check.py", "--model", "mlp", "--epochs", "1", "--train-limit", "200",
                     env={"GLASSNET_DATA": str(fashion_mnist_dir.parent)})
    assert re.search(r"\b0 of 10,000 predictions differ", out), out


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="Open MPI's mpirun is not installed")
def test_distributed_benchmark_runs_all_three_modes(fashion_mnist_dir, tmp_path):
    """benchmarks/distributed.py on 512 images, one run per mode: one process on one and on two
    threads, and ``mpirun -n 2``; the JSON has a speed for each and the Allreduce's share."""
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install 'glassnet[mpi]')")
    path = tmp_path / "distributed.json"
    run_script("benchmarks/distributed.py", "--workloads", "mlp-relu-b128", "--runs", "1", "--images", "512",
               "--json", str(path), env={"GLASSNET_DATA": str(fashion_mnist_dir.parent)})
    result = json.loads(path.read_text())["results"]["mlp-relu-b128"]
    assert set(result["images_per_s_median"]) == {"1 process, 1 thread", "1 process, 2 threads", "2 processes"}
    assert all(v > 0 for v in result["images_per_s_median"].values())
    assert 0 < result["comm_share"] < 1


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


def test_thread_table_from_bench_json():
    """benchmarks/thread_table.py turns bench.py JSON files into the README's thread table."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from thread_table import table

    def summary(threads, ratio):
        return {"workload": "mlp-relu-b128", "threads": threads, "other": "torch", "ratio_glassnet_time_over_other": ratio,
                "contenders": {"glassnet": {"images_per_s_median": 2000.0, "threads": {"blas_threads": 2}},
                               "torch": {"images_per_s_median": 1000.0, "threads": {"torch_threads": 2}}}}

    machine = {"date": "2026-12-02", "cpu_model": "AMD EPYC", "cpus": 2, "load_average": [0.1, 0, 0], "busy_cores": 1,
               "gemm_peak_gflops": {"1": 76.0}, "command": "benchmarks/bench.py --quick"}
    out = table([("idle", {"machine": machine, "results": [summary("default", 0.5), summary(2, 0.6)]})])
    assert "| workload | idle, threads default | idle, threads 2 |" in out
    assert "| mlp-relu-b128 | **0.50** (2,000 / 1,000; 2/2 thr) | **0.60**" in out


def test_thread_table_pools_the_pairs_of_one_configuration():
    """``--pairs``: the rows of a workload with the same threads are one configuration; their
    paired ratios are pooled (median, range, count), a row with other threads stays apart."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from thread_table import pairs_table

    def summary(threads, torch_threads, pairs):
        return {"workload": "cnn-book-b64", "threads": threads, "other": "torch", "ratio_pairs": pairs,
                "contenders": {"glassnet": {"threads": {"blas_threads": 2}},
                               "torch": {"threads": {"torch_threads": torch_threads}}}}

    run = {"results": [summary("default", 2, [0.9, 1.2, 0.7]), summary(2, 2, [1.0, 0.8, 1.1]),
                       summary(1, 1, [0.5])]}
    out = pairs_table([("idle", run)])
    assert "| cnn-book-b64 (2/2) | **0.95** (0.70–1.20, 6 pairs) |" in out
    assert "| cnn-book-b64 (2/1) | **0.50** (0.50–0.50, 1 pair) |" in out


def test_bench_leaves_pytorch_its_wait_policy_on_an_idle_machine(monkeypatch):
    """Passive OpenMP waiting only when busy-loop processes hold cores (on an idle machine it slowed
    PyTorch's resnet-small-b64 from 454 to 295 images/s); a policy the user set is kept either way."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench import worker_environment

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert "OMP_WAIT_POLICY" not in worker_environment(0)
    assert worker_environment(1)["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert worker_environment(0)["OMP_WAIT_POLICY"] == worker_environment(2)["OMP_WAIT_POLICY"] == "ACTIVE"


def test_bench_ratio_is_the_median_of_the_paired_runs(monkeypatch):
    """Runs alternate glassnet, torch, glassnet, torch …: the ratio is the median of each pair's
    glassnet time / torch time (a drift of the machine's speed cancels within a pair), the table
    shows it with the pairs' range."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench

    seconds = iter([2.0, 1.0, 6.0, 2.0, 3.0, 4.0])  # pairs 2.0, 3.0, 0.75: the machine slowed in the middle
    monkeypatch.setattr(bench, "run_worker", lambda workload, name, *a, **k: {
        "seconds": next(seconds), "images_per_s": 1.0, "peak_rss_mb": 1.0, "test_accuracy": 0.5})
    summary = bench.bench_workload("mlp-relu-b128", 100, 3, False, None, True)
    assert summary["ratio_pairs"] == [2.0, 3.0, 0.75]
    assert summary["ratio_glassnet_time_over_other"] == 2.0  # the ratio of the medians would be 3/2
    assert bench.ratio_cell(summary) == "2.00 (0.75–3.00)"


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
