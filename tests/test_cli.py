"""The ``glassnet`` command line, run in-process: train, evaluate, summary."""

import json
import pickle

import numpy as np
import pytest

import glassnet
from glassnet.cli.main import main
from glassnet.train import History

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fashion_run(tmp_path_factory, fashion_mnist_dir):
    """One small Fashion-MNIST run shared by the tests that inspect its output."""
    out = tmp_path_factory.mktemp("fashion")
    rc = main(["train", "--limit", "1200", "--epochs", "2", "--arch", "784-32-10", "--batch-size", "32",
               "--augment", "--threads", "1", "--out", str(out), "--quiet"])
    return rc, out


def test_train_writes_every_artifact(fashion_run, capsys):
    rc, out = fashion_run
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"model.safetensors", "best.safetensors", "checkpoint.safetensors", "history.json", "run.json",
                     "learning_curves.png", "confusion_matrix.png", "misclassified.png", "report.md"}
    for png in ("learning_curves.png", "confusion_matrix.png", "misclassified.png"):
        assert (out / png).read_bytes()[:8] == PNG and (out / png).stat().st_size > 10_000
    history = History.load(out / "history.json")
    assert len(history) == 2 and "val_accuracy" in history
    run = json.loads((out / "run.json").read_text())
    assert run["options"]["arch"] == "784-32-10" and run["options"]["augment"] == 1
    assert run["results"]["epochs_run"] == 2
    assert run["results"]["test_accuracy"] > 0.6  # 1000 shifted training images, 2 epochs
    report = (out / "report.md").read_text()
    assert "![Confusion matrix](confusion_matrix.png)" in report and "Ankle boot" in report
    meta = glassnet.io.load_metadata(out / "model.safetensors")
    assert meta["classes"][0] == "T-shirt/top" and meta["input_shape"] == [1, 784]


def test_evaluate_reproduces_the_test_accuracy(fashion_run, capsys):
    _, out = fashion_run
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.safetensors")]) == 0
    printed = capsys.readouterr().out
    accuracy = json.loads((out / "run.json").read_text())["results"]["test_accuracy"]
    assert f"accuracy: {100 * accuracy:.2f}% ({round(accuracy * 10000)}/10000)" in printed
    assert printed.count("(1000 examples)") == 10 and "Ankle boot" in printed


def test_summary_prints_the_layer_table(fashion_run, capsys):
    _, out = fashion_run
    capsys.readouterr()
    assert main(["summary", str(out / "model.safetensors")]) == 0
    printed = capsys.readouterr().out
    assert "BatchNorm1d" in printed and "Total params: 25,482" in printed  # 784·32 (no bias) + 2·32 + 32·10 + 10


def _spiral_args(out, *extra):
    return ["train", "--dataset", "spiral", "--arch", "2-32-3", "--optimizer", "momentum", "--lr", "0.05",
            "--batch-size", "32", "--out", str(out), "--quiet", *extra]


def test_a_toml_config_gives_options_and_the_command_line_wins(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('dataset = "spiral"\narch = "2-16-3"\nbatch_size = 64\nepochs = 3\ndropout = 0.0\n'
                      'schedule = "none"\n')
    assert main(["train", "--config", str(config), "--epochs", "2", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    options = json.loads((tmp_path / "o" / "run.json").read_text())["options"]
    assert (options["arch"], options["batch-size"], options["epochs"], options["dropout"]) == ("2-16-3", 64, 2, 0.0)
    assert "decision_regions.png" in {p.name for p in (tmp_path / "o").iterdir()}
    assert "test accuracy: " in capsys.readouterr().out


def test_resume_continues_a_run_bit_for_bit(tmp_path):
    assert main(_spiral_args(tmp_path / "straight", "--epochs", "3", "--schedule", "none")) == 0
    assert main(_spiral_args(tmp_path / "split", "--epochs", "2", "--schedule", "none")) == 0
    assert main(["train", "--resume", str(tmp_path / "split" / "checkpoint.safetensors"), "--epochs", "3",
                 "--out", str(tmp_path / "split"), "--quiet"]) == 0
    a = glassnet.load(tmp_path / "straight" / "model.safetensors").state_dict()
    b = glassnet.load(tmp_path / "split" / "model.safetensors").state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    history = History.load(tmp_path / "straight" / "history.json")
    assert History.load(tmp_path / "split" / "history.json").loss == history.loss
    assert history.val_accuracy[-1] > 0.6  # the validation split holds every class (spiral comes sorted)


def test_errors_are_one_clear_line(tmp_path, capsys):
    assert main(_spiral_args(tmp_path, "--arch", "2-16-4", "--epochs", "1")) == 1
    assert "spiral needs 2 inputs and 3 outputs, e.g. --arch 2-100-3" in capsys.readouterr().err
    fake = tmp_path / "model.safetensors"
    fake.write_bytes(pickle.dumps({"w": 1}))
    assert main(["evaluate", str(fake)]) == 1
    assert "found a Python pickle" in capsys.readouterr().err
    config = tmp_path / "bad.toml"
    config.write_text("learning_rate = 0.1\n")
    assert main(["train", "--config", str(config)]) == 1
    assert "unknown option(s) learning-rate" in capsys.readouterr().err


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    printed = capsys.readouterr().out
    for command in ("train", "evaluate", "summary", "experiments"):
        assert command in printed
