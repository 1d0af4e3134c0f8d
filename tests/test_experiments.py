"""The experiment framework: statistics and decision rules, the saved schema, the
parallel runners (loky and a local dask.distributed cluster give the same
numbers, seed by seed), the report and README table; and every registered
experiment in quick mode computes well-formed metrics, CIs and a verdict (a tiny
quick setting decides nothing about the claim, so agreement is not asserted)."""

import json
import math
import re

import numpy as np
import pytest
from scipy import stats as scipy_stats

from glassnet.cli import experiments as cli
from glassnet.cli import main as glassnet_main
from glassnet.data import DatasetNotFoundError
from glassnet.experiments import registry, report, runner
from glassnet.experiments.stats import Rule, summarize, verdict

SCHEMA = {"name", "claim", "source", "kind", "dataset", "setup", "deviations", "seeds", "metrics", "book", "test",
          "verdict"}


@pytest.fixture(autouse=True)
def _experiments_find_shared_data(monkeypatch, shared_data_root):
    """The experiments find the real MNIST digits through $GLASSNET_SHARED_DATA."""
    monkeypatch.setenv("GLASSNET_SHARED_DATA", str(shared_data_root))


# ------------------------------------------------------------------ statistics
def test_summary_is_mean_and_t_interval():
    values = [0.81, 0.84, 0.80, 0.86, 0.83]
    s = summarize(values)
    half = scipy_stats.t.ppf(0.975, 4) * np.std(values, ddof=1) / math.sqrt(5)
    assert s["per_seed"] == values and s["mean"] == pytest.approx(np.mean(values))
    assert s["ci95"] == pytest.approx([np.mean(values) - half, np.mean(values) + half])
    assert summarize([2.0, 2.0, 2.0])["ci95"] == [2.0, 2.0]
    assert all(math.isnan(v) for v in summarize([1.0, float("nan")])["ci95"])


@pytest.mark.parametrize("op, ci, outcome", [
    (">", [0.01, 0.03], "holds"), (">", [-0.01, 0.03], "inconclusive"), (">", [-0.03, -0.01], "fails"),
    ("<", [0.2, 0.3], "fails"), ("<", [-1, -0.5], "holds"), (">=", [0.0, 0.0], "holds"), (">", [0.0, 0.0], "fails"),
    ("==", [1.0, 1.0], "fails"), ("==", [0.0, 0.0], "holds"), ("==", [-0.1, 0.1], "inconclusive"),
    (">", [float("nan"), float("nan")], "inconclusive")])
def test_rule_decides_by_the_whole_interval(op, ci, outcome):
    assert Rule("accuracy", "a", op, 0.0).decide({"ci95": ci}) == outcome


@pytest.mark.parametrize("op, per_seed, outcome", [
    ("<=", [0.75, 0.5, 0.25], "holds"), ("<=", [0.75, 1.0, 0.25], "fails"), ("<=", [1.0, 1.0], "fails"),
    ("==", [0.0, 0.0, 0.0], "holds"), ("==", [0.0, 1e-9], "fails"), (">", [1.0, float("nan")], "inconclusive")])
def test_facts_by_construction_are_decided_on_every_seed(op, per_seed, outcome):
    # a CI over [0.75, 0.5, 0.25] reaches above 0.75: a demonstration is judged by its worst seed instead
    summary = summarize(per_seed)
    assert Rule("accuracy", "a", op, 0.75 if op == "<=" else 0.0).decide(summary, every_seed=True) == outcome
    assert Rule("accuracy", "a", "<=", 0.75).text(every_seed=True).startswith("every seed of accuracy")


def test_verdict_and_rule_text():
    assert verdict(["holds", "holds"]) == "agrees"
    assert verdict(["holds", "inconclusive"]) == "inconclusive"
    assert verdict(["inconclusive", "fails"]) == "disagrees"
    with pytest.raises(ValueError, match="at least one"):
        verdict([])
    with pytest.raises(ValueError, match="op must be one of"):
        Rule("x", "a", "~", 0)
    text = Rule("test accuracy", "L2", ">", 0.0, baseline="none").text()
    assert "paired difference" in text and "'L2' − 'none'" in text and "above 0" in text


def test_paired_differences_are_summarised_per_seed(mnist):  # the dropout config reads the real digits
    exp = registry.get("dropout")
    outputs = [{"name": "dropout", "seed": s, "condition": c, "seconds": 1.0, "curves": {}, "checks": [],
                "metrics": {"test accuracy, mean of the last 10% of epochs": base + (0.02 if c != "no dropout" else 0)}}
               for s, base in enumerate([0.70, 0.75, 0.72, 0.74, 0.71]) for c in exp.conditions_of(exp.config("full"))]
    result = runner.summarize_experiment(exp, "full", [0, 1, 2, 3, 4], outputs)
    diff = result["metrics"]["test accuracy, mean of the last 10% of epochs"]["dropout 0.2 − no dropout"]
    assert diff["per_seed"] == pytest.approx([0.02] * 5) and diff["ci95"] == pytest.approx([0.02, 0.02])
    assert result["verdict"] == "agrees"  # unpaired, the two intervals would overlap
    assert SCHEMA <= set(result) and result["mode"] == "full"


# ------------------------------------------------------------------ every experiment, quick
@pytest.mark.parametrize("name", registry.names())
def test_quick_experiment_is_well_formed(name, tmp_path):
    exp = registry.get(name)
    try:
        [result] = runner.run_experiments([name], "quick", tmp_path, jobs=1, log=lambda line: None)
    except DatasetNotFoundError as e:  # Fashion-MNIST comes with bootstrap.py; MNIST digits with the shared data
        pytest.skip(str(e))
    assert result["verdict"] in ("agrees", "disagrees", "inconclusive"), result["errors"]
    saved = json.loads((tmp_path / f"{name}.json").read_text())
    assert SCHEMA <= set(saved) and saved["kind"] == exp.kind and saved["mode"] == "quick"
    assert saved["verdict"] == result["verdict"] and saved["seeds"] == list(range(exp.quick_seeds))
    assert saved["rules"] and saved["test"].startswith("every seed" if exp.kind == "demonstration" else "the 95% CI")
    for rule in saved["rules"]:
        assert rule["outcome"] in ("holds", "fails", "inconclusive")
        summary = saved["metrics"][rule["metric"]][rule["quantity"]]
        assert len(summary["per_seed"]) == exp.quick_seeds
        lo, hi = summary["ci95"]
        assert lo <= summary["mean"] <= hi or any(math.isnan(v) for v in (lo, hi))
    for figure in saved["figures"]:
        assert (tmp_path / figure).stat().st_size > 3000
    assert saved["figures"], f"{name} drew no figure"


# ------------------------------------------------------------------ parallel engines
QUICK_NAME = "init-histograms"


def _per_seed(result):
    return {m: {c: s["per_seed"] for c, s in t.items()} for m, t in result["metrics"].items()}


def test_same_numbers_with_any_number_of_workers_and_on_dask(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    [one] = runner.run_experiments([QUICK_NAME], "quick", tmp_path / "1", jobs=1, seeds=2, log=lambda line: None)
    [two] = runner.run_experiments([QUICK_NAME], "quick", tmp_path / "2", jobs=2, seeds=2, log=lambda line: None)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        [dask] = runner.run_experiments([QUICK_NAME], "quick", tmp_path / "d", scheduler=c.scheduler_address,
                                        seeds=2, log=lambda line: None)
    assert _per_seed(one) == _per_seed(two) == _per_seed(dask)
    values = next(iter(next(iter(one["metrics"].values())).values()))["per_seed"]
    assert len(set(values)) == 2  # the seeds really differ


# ------------------------------------------------------------------ CLI, report, README
def test_cli_lists_kinds_apart(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert f"{len(registry.names('reproduction'))} reproductions:" in out
    assert f"{len(registry.names('demonstration'))} demonstrations:" in out
    assert glassnet_main.main(["experiments", "run", "no-such-experiment"]) == 2
    assert cli.main(["run"]) == 2


def test_run_report_and_readme_table(tmp_path, capsys):
    out = tmp_path / "results"
    assert cli.main(["run", "losses-worked-example", "xor", "--quick", "--jobs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"demonstrations: \d agree, \d disagree, \d inconclusive of 2 \(2 in quick mode", printed)
    assert printed.count("demonstration losses-worked-example (quick, 1 seeds") == 1
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.README_BEGIN}\nold table\n{report.README_END}\nrest\n")
    assert cli.main(["report", "--out", str(out), "--readme", str(readme)]) == 0
    page = (out / "report.html").read_text()
    assert 'id="xor"' in page and "Quick mode" in page and 'src="losses-worked-example-losses.png"' in page
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("rest\n") and "old table" not in text
    assert "Not yet run in full (quick results only): losses-worked-example, xor." in text
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        report.write_readme_table(runner.load_results(out), readme)
    assert cli.main(["report", "--out", str(tmp_path / "empty")]) == 2


def test_reproductions_need_five_seeds():
    with pytest.raises(ValueError, match="at least 5 seeds"):
        registry.reproduction("x", claim="", source="", dataset="", setup={}, seeds=3)
    with pytest.raises(ValueError, match="not in its setup"):
        registry.demonstration("x", claim="", source="", dataset="", setup={"a": 1}, quick={"b": 2})


def test_cost_line_sums_cpu_time_and_names_what_is_missing():
    results = [{"name": "xor", "cpu_seconds": 90.0, "core_seconds": 300.0},
               {"name": "dropout", "cpu_seconds": 0.0, "core_seconds": 600.0}]
    line = report.cost_line(results)
    assert line.startswith("The 2 full runs: 2 CPU-minutes where recorded, plus 10 core-minutes")
    assert "(dropout)" in line and "No full run yet:" in line and "pooling" in line and ", xor" not in line
