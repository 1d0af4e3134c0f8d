"""Bad option values, from the command line or a TOML config, get one line naming the option (issue 11)."""

import numpy as np
import pytest

import glassnet
from glassnet import nn, optim
from glassnet.cli.main import main
from glassnet.data import make_spiral
from glassnet.models.mlp import mlp
from glassnet.train import fit


def _refused(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("option,value,message", [
    ("--limit", "0", "expected a positive integer, got 0"),
    ("--limit", "-5", "expected a positive integer, got -5"),
    ("--lr", "nan", "expected a positive number, got 'nan' (not finite)"),
    ("--lr", "-0.1", "expected a positive number, got -0.1"),
    ("--threads", "-1", "expected a positive number of threads or 'auto', got '-1'"),
    ("--data-dir", "/nonexistent", "expected an existing folder, got '/nonexistent'"),
    ("--epochs", "2.5", "expected an integer >= 0, got '2.5'"),
    ("--batch-size", "0", "expected a positive integer, got 0"),
    ("--dropout", "1", "expected a probability in [0, 1), got 1"),
    ("--l2", "inf", "expected a number >= 0, got 'inf' (not finite)"),
])
def test_the_command_line_refuses_bad_values(capsys, option, value, message):
    assert _refused(["train", option, value, "--quiet"], capsys) == \
        f"glassnet train: error: argument {option}: {message}"


@pytest.mark.parametrize("line,message", [
    ('epochs = "3.5"', "epochs: expected an integer >= 0, got '3.5'"),
    ("epochs = true", "epochs: expected an integer >= 0, got True"),
    ('lr = "abc"', "lr: expected a positive number, got 'abc'"),
    ("arch = 784", "arch: expected layer sizes as a string such as '784-100-10', got 784"),
    ('optimizer = "foo"', "optimizer: expected one of sgd, momentum"),
    ('schedule = "foo"', "schedule: expected one of none, cosine, onecycle, plateau, halving, got 'foo'"),
    ("batch-norm = 1", "batch-norm: expected true or false, got 1"),
    ("limit = 0", "limit: expected a positive integer, got 0"),
    ("threads = -1", "threads: expected a positive number of threads or 'auto', got '-1'"),
    ('data_dir = "/nonexistent"', "data-dir: expected an existing folder, got '/nonexistent'"),
    ("lr = [1, 2]", "lr: expected a single value, got [1, 2]"),
])
def test_a_toml_config_is_validated_as_the_command_line(tmp_path, capsys, line, message):
    config = tmp_path / "run.toml"
    config.write_text(line + "\n")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"glassnet train: error: {config}: {message}"), err
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_an_unknown_dataset_in_a_config_is_one_line_naming_it(tmp_path, capsys):
    """--dataset also takes a folder or a CSV file, so a name that is neither is refused when the data is looked up."""
    config = tmp_path / "run.toml"
    config.write_text('dataset = "evil"\n')
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("glassnet train: error: unknown dataset 'evil': expected one of "
                                               "fashion-mnist, mnist"), err


def test_toml_values_the_command_line_would_accept_are_accepted(tmp_path):
    from glassnet.cli.train import read_config
    config = tmp_path / "run.toml"
    config.write_text('epochs = "3"\nlr = 0.5\nbatch_size = 16\nthreads = "auto"\nbatch-norm = false\n'
                      'dataset = "spiral"\narch = "2-8-3"\n')
    assert read_config(config) == {"epochs": 3, "lr": 0.5, "batch-size": 16, "threads": "auto",
                                    "batch-norm": False, "dataset": "spiral", "arch": "2-8-3"}


def test_a_last_batch_of_one_is_dropped_for_batch_norm_instead_of_failing_mid_epoch():
    x, y = make_spiral(17, 3, generator=np.random.default_rng(0))  # 51 examples in batches of 10: 1 left
    model = mlp("2-8-3", batch_norm=True)
    with pytest.warns(UserWarning, match=r"last batch of 1 example.*dropped every epoch \(drop_last=True\)"):
        history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 2,
                      batch_size=10, verbose=False)
    assert len(history) == 2
    without_bn = mlp("2-8-3", batch_norm=False)  # nothing to protect: every example trains
    fit(without_bn, (x, y), nn.CrossEntropyLoss(), optim.SGD(without_bn.parameters(), lr=0.1), 1, batch_size=10,
        verbose=False)


def test_the_cli_survives_a_last_batch_of_one_with_batch_norm(tmp_path, capsys):
    # spiral: 1200 examples, 200 held out, 1000 in batches of 999
    with pytest.warns(UserWarning, match="last batch of 1 example"):
        rc = main(["train", "--dataset", "spiral", "--batch-size", "999", "--epochs", "1", "--quiet",
                   "--out", str(tmp_path), "--threads", "1"])
    assert rc == 0


def test_a_nan_stopped_cli_run_fails_with_a_message_also_when_quiet(tmp_path, capsys):
    rc = main(["train", "--dataset", "spiral", "--optimizer", "sgd", "--lr", "1e30", "--no-batch-norm",
               "--epochs", "3", "--quiet", "--out", str(tmp_path), "--threads", "1"])
    assert rc == 3
    err = capsys.readouterr().err
    assert "glassnet train: training failed:" in err and "kept the last good weights" in err


def test_an_empty_training_set_is_a_clear_error():
    model = mlp("2-8-3")
    with pytest.raises(ValueError, match="the training data has no examples"):
        fit(model, (np.zeros((0, 2), np.float32), np.zeros(0, np.int64)), nn.CrossEntropyLoss(),
            optim.SGD(model.parameters(), lr=0.1), 1, verbose=False)


def test_the_mean_of_an_empty_tensor_is_nan_as_in_numpy():
    with np.errstate(invalid="ignore"):
        assert np.isnan(glassnet.Tensor(np.zeros(0)).mean().item()) and np.isnan(np.zeros(0).mean())


def test_a_layer_accepts_an_ndarray_as_a_tensor(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    layer = nn.Linear(3, 2)
    np.testing.assert_array_equal(layer(x).data, layer(glassnet.Tensor(x)).data)
    conv = nn.Conv2d(1, 2, 3)
    images = rng.standard_normal((2, 1, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(conv(images).data, conv(glassnet.Tensor(images)).data)
    assert nn.Sequential(nn.Linear(3, 2), nn.ReLU())(x).shape == (4, 2)
