"""Every registered experiment in quick mode computes its checks and a well-formed
verdict (a tiny quick setting decides nothing about the claim, so agreement is not
asserted), its figures and result.json exist; the CLI's exit codes follow the verdicts."""

import json

import numpy as np
import pytest

from glassnet.cli import experiments as cli
from glassnet.cli import main as glassnet_main
from glassnet.data import DatasetNotFoundError
from glassnet.experiments import registry
from glassnet.experiments.plotting import figure, save


@pytest.mark.parametrize("name", registry.names())
def test_quick_experiment_is_well_formed(name, tmp_path, request):
    try:
        result = registry.run_experiment(name, mode="quick", seed=0, out_root=tmp_path)
    except DatasetNotFoundError:  # real-data experiments need Fashion-MNIST (bootstrap.py installs it)
        request.getfixturevalue("fashion_mnist_dir")  # skips, or fails under GLASSNET_TEST_STRICT=1
        raise
    assert result.checks, f"{name} states no checks"
    assert isinstance(result.agrees, bool) and result.verdict, name
    assert result.figures, f"{name} drew no figure"
    for path in result.figures:
        assert path.exists() and path.suffix == ".png" and path.stat().st_size > 5000, path
    saved = json.loads((tmp_path / name / "result.json").read_text())
    assert saved["agrees"] is result.agrees and saved["name"] == name and saved["mode"] == "quick"
    assert saved["numbers"] and len(saved["checks"]) == len(result.checks)
    for check in saved["checks"]:
        assert isinstance(check["passed"], bool) and isinstance(check["value"], (int, float))


def test_check_compares_value_with_threshold():
    assert registry.Check("x", 0.1, "<", 0.2).passed
    assert not registry.Check("x", 0.3, "<", 0.2).passed
    assert not registry.Check("x", float("nan"), "<", 0.2).passed
    assert "0.3 < 0.2 ✗" in str(registry.Check("x", np.float32(0.3), "<", 0.2))
    with pytest.raises(ValueError, match="op must be one of"):
        registry.Check("x", 1, "~", 2)


@pytest.fixture
def fake_registry(monkeypatch):
    """Only two throw-away experiments: one whose measured number meets its
    threshold and one whose number does not."""
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "load_all", lambda: None)

    def make(name, measured):
        @registry.experiment(name, f"{name} claim", quick=dict(value=measured), full=dict(value=measured))
        def run(config):
            fig, ax = figure()
            ax.plot([0, 1], [0, config.value])
            ax.set(title=name, xlabel="x", ylabel="y")
            return {"value": config.value}, [registry.Check("value", config.value, "<", 1.0)], [save(fig, config, "f")]

    make("holds", 0.5)
    make("fails", 2.0)


def test_cli_list(fake_registry, capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "holds" in out and "fails claim" in out


def test_glassnet_command_has_experiments(fake_registry, tmp_path, capsys):
    assert glassnet_main.main(["experiments", "list"]) == 0
    assert "holds claim" in capsys.readouterr().out
    assert glassnet_main.main(["experiments", "run", "holds", "--quick", "--out", str(tmp_path)]) == 0
    assert glassnet_main.main(["experiments", "run", "fails", "--quick", "--out", str(tmp_path)]) == 1


def test_cli_run_exit_codes_follow_verdicts(fake_registry, tmp_path, capsys):
    assert cli.main(["run", "holds", "--quick", "--out", str(tmp_path)]) == 0
    assert cli.main(["run", "fails", "--out", str(tmp_path)]) == 1
    assert "FAIL fails" in capsys.readouterr().out
    assert json.loads((tmp_path / "fails" / "result.json").read_text())["agrees"] is False
    assert cli.main(["run", "no-such-experiment"]) == 2
    assert cli.main(["run"]) == 2


def test_cli_run_all_writes_report(fake_registry, tmp_path):
    assert cli.main(["run", "--all", "--quick", "--seed", "3", "--out", str(tmp_path)]) == 1
    page = (tmp_path / "report.html").read_text()
    assert 'id="holds"' in page and 'id="fails"' in page and "1 of 2 claims agree" in page
    assert page.count("data:image/png;base64,") == 2
    (tmp_path / "report.html").unlink()
    assert cli.main(["report", "--out", str(tmp_path)]) == 1  # rebuilt from result.json; one claim fails
    assert "1 of 2 claims agree" in (tmp_path / "report.html").read_text()
    assert cli.main(["report", "--out", str(tmp_path / "empty")]) == 2


def test_seed_makes_runs_reproducible(tmp_path):
    a, b, c = (registry.run_experiment("zero-init-symmetry", "quick", seed=s, out_root=tmp_path / str(i))
               for i, s in enumerate((5, 5, 6)))
    assert a.to_dict()["numbers"] == b.to_dict()["numbers"]
    assert a.to_dict()["numbers"] != c.to_dict()["numbers"]
