"""``glassnet train --model ...`` for every network, text data, evaluate, predict,
the zoo, fine-tuning and lr-find, run in-process on small slices."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet.cli.main import main
from glassnet.data.text import load_text_classification
from glassnet.models import model_zoo as zoo
from glassnet.train.lr_finder import suggest

FAST = ["--limit", "240", "--test-limit", "200", "--epochs", "1", "--batch-size", "32", "--threads", "1", "--quiet",
        "--no-figures"]
IMAGE_MODELS = {
    "mlp": ["--arch", "784-16-10"],
    "book_cnn": [],
    "spp_cnn": ["--spp", "1,2"],
    "resnet_small": ["--blocks", "1", "--widths", "4,4,8"],
    "plain_net": ["--blocks", "1", "--widths", "4,4,8"],
}
POSITIVE = ["a wonderful , moving film", "brilliant and funny", "a joy to watch", "superb acting and a great story",
            "warm , witty and wise", "the best film of the year"]
NEGATIVE = ["a dull , tedious mess", "boring and far too long", "the worst film of the year", "flat and lifeless",
            "a tired , clumsy script", "painfully bad acting"]


@pytest.fixture(scope="module")
def fashion():
    try:
        glassnet.data.load_split("fashion-mnist", "test", download=False)
    except glassnet.data.DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not installed")


@pytest.fixture(scope="module")
def polarity_folder(tmp_path_factory):
    """A tiny .neg/.pos folder: 60 sentences of each class (the short lists, repeated)."""
    folder = tmp_path_factory.mktemp("polarity")
    (folder / "tiny.pos").write_text("\n".join(POSITIVE * 10) + "\n", encoding="latin-1")
    (folder / "tiny.neg").write_text("\n".join(NEGATIVE * 10) + "\n", encoding="latin-1")
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory, fashion):
    """Every image model trained for one epoch on 240 images: {model: output folder}."""
    root = tmp_path_factory.mktemp("models")
    outs = {}
    for name, extra in IMAGE_MODELS.items():
        outs[name] = root / name
        assert main(["train", "--model", name, *extra, *FAST, "--out", str(outs[name])]) == 0
    return outs


@pytest.mark.parametrize("name", list(IMAGE_MODELS))
def test_every_image_model_trains_and_evaluate_reproduces_its_accuracy(trained, name, capsys):
    out = trained[name]
    assert {"model.safetensors", "checkpoint.safetensors", "report.md", "history.json"} <= \
        {p.name for p in out.iterdir()}
    run = json.loads((out / "run.json").read_text())
    assert run["options"]["model"] == name and run["results"]["epochs_run"] == 1
    meta = glassnet.io.load_metadata(out / "model.safetensors")
    assert meta["preprocessing"]["kind"] == "image"
    assert meta["preprocessing"]["input_shape"] == ([1, 784] if name == "mlp" else [1, 1, 28, 28])
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.safetensors"), "--limit", "200"]) == 0
    accuracy = run["results"]["test_accuracy"]
    assert f"accuracy: {100 * accuracy:.2f}% ({round(accuracy * 200)}/200)" in capsys.readouterr().out
    assert main(["evaluate", str(out / "best.safetensors"), "--limit", "20"]) == 0  # the best epoch: a model file
    if name in ("mlp", "book_cnn", "spp_cnn"):
        assert accuracy > 0.3  # 240 images, one epoch: well above chance (0.1)


def test_a_model_recipe_is_its_default_and_the_command_line_wins(tmp_path, fashion):
    assert main(["train", "--model", "book_cnn", *FAST, "--lr", "0.02", "--out", str(tmp_path)]) == 0
    options = json.loads((tmp_path / "run.json").read_text())["options"]
    assert (options["optimizer"], options["weight-decay"], options["lr"], options["epochs"]) == \
        ("nesterov", 5e-4, 0.02, 1)


def test_a_cnn_run_resumes_bit_identically(tmp_path, fashion):
    args = ["--model", "spp_cnn", "--spp", "1,2", "--limit", "160", "--test-limit", "50", "--batch-size", "32",
            "--threads", "1", "--quiet", "--no-figures", "--augment", "2", "--schedule", "none"]
    assert main(["train", *args, "--epochs", "2", "--out", str(tmp_path / "straight")]) == 0
    assert main(["train", *args, "--epochs", "1", "--out", str(tmp_path / "split")]) == 0
    assert main(["train", "--resume", str(tmp_path / "split" / "checkpoint.safetensors"), "--epochs", "2",
                 "--quiet"]) == 0
    a = glassnet.io.load_state_dict(tmp_path / "straight" / "model.safetensors")
    b = glassnet.io.load_state_dict(tmp_path / "split" / "model.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_textcnn_trains_on_a_polarity_folder_and_predicts_sentences(tmp_path, polarity_folder, capsys):
    out = tmp_path / "text"
    assert main(["train", "--model", "textcnn", "--dataset", str(polarity_folder), "--embed-dim", "16", "--maps", "8",
                 "--epochs", "12", "--batch-size", "10", "--lr", "0.01", "--threads", "1", "--quiet", "--no-figures",
                 "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["results"]["test_accuracy"] == 1.0  # the test sentences are repeats of training ones
    assert "Misclassified test sentences" in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["predict", str(out / "model.safetensors"), "brilliant and funny", "painfully bad acting",
                 "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert [r["predictions"][0]["class"] for r in results] == ["positive", "negative"]
    assert all(abs(sum(p["probability"] for p in r["predictions"]) - 1) < 1e-5 for r in results)  # top 2 of 2
    assert main(["evaluate", str(out / "model.safetensors")]) == 0
    assert "accuracy: 100.00% (12/12)" in capsys.readouterr().out
    # a photo for a text model, and an image test set for it: one-line errors
    from PIL import Image
    Image.new("L", (8, 8)).save(tmp_path / "photo.jpg")
    assert main(["predict", str(out / "model.safetensors"), str(tmp_path / "photo.jpg")]) == 1
    assert "this model classifies sentences, not images" in capsys.readouterr().err
    assert main(["evaluate", str(out / "model.safetensors"), "--dataset", "spiral"]) == 1
    assert "takes sentences, but --dataset spiral holds 2-D points" in capsys.readouterr().err


def test_text_data_from_a_csv(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('text,label\n"good, really good",pos\nawful,neg\nfine film,pos\n', encoding="utf-8")
    sentences, labels, classes = load_text_classification(path)
    assert list(sentences) == ["good, really good", "awful", "fine film"]
    assert classes == ("neg", "pos") and labels.tolist() == [1, 0, 1]
    (tmp_path / "bad.csv").write_text("text,label\nonly one field\n")
    with pytest.raises(ValueError, match="row 1 has 1 fields"):
        load_text_classification(tmp_path / "bad.csv")


def test_predict_classifies_an_image_file_with_the_stored_preprocessing(trained, tmp_path, capsys):
    from PIL import Image
    x, _ = glassnet.data.load_split("fashion-mnist", "test")
    wrong = []
    for name in ("mlp", "book_cnn"):
        model = str(trained[name] / "model.safetensors")
        # a light-background, larger RGB version of a test image: grey-scaled, resized, inverted back
        big = Image.fromarray(255 - x[0]).resize((56, 56), Image.NEAREST).convert("RGB")
        big.save(tmp_path / "photo.png")
        Image.fromarray(x[0]).save(tmp_path / "raw.png")
        capsys.readouterr()
        assert main(["predict", model, str(tmp_path / "raw.png"), str(tmp_path / "photo.png"), "--json",
                     "--top", "10"]) == 0
        raw, photo = json.loads(capsys.readouterr().out)["results"]
        assert len(raw["predictions"]) == 10
        expected = glassnet.io.load(model)
        from glassnet.cli.evaluate import outputs
        meta = glassnet.io.load_metadata(model)
        scores = outputs(expected, x[:1], meta["preprocessing"])[0]
        assert raw["predictions"][0]["index"] == int(scores.argmax())
        p = np.exp(scores - scores.max())
        assert abs(raw["predictions"][0]["probability"] - p.max() / p.sum()) < 1e-5
        wrong.append(photo["predictions"][0]["index"] != raw["predictions"][0]["index"])
    assert not all(wrong)  # the resized, inverted copy is mostly classified like the original
    assert main(["predict", str(trained["mlp"] / "model.safetensors"), str(tmp_path / "raw.png")]) == 0
    assert "  1. " in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "--model", "mlp", "--spp", "1,2,4"], "--spp does not apply to --model mlp"),
    (["train", "--model", "textcnn", "--dataset", "fashion-mnist"], "--model textcnn takes sentences"),
    (["train", "--model", "book_cnn", "--dataset", "spiral"], "--model book_cnn takes images"),
    (["train", "--model", "mlp", "--textcnn-mode", "static"], "it is an option of textcnn"),
    (["train", "--dataset", "imagenet"], "unknown dataset 'imagenet': expected one of fashion-mnist"),
    (["train", "--warmup", "0.2"], "--warmup is the one-cycle schedule's warm-up fraction; it needs --schedule "
     "onecycle, not cosine"),
])
def test_bad_options_give_one_line_errors(argv, message, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_an_unknown_model_names_the_known_ones(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--model", "vgg"])
    err = capsys.readouterr().err
    assert "invalid choice: 'vgg'" in err and "resnet_small" in err
    assert len(err.strip().splitlines()) == 1, err  # not the 25 lines of train's usage first


def test_text_data_for_an_image_model_is_refused(polarity_folder, capsys, tmp_path):
    assert main(["train", "--model", "resnet_small", "--dataset", str(polarity_folder), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "takes images or 2-D points" in err and "text needs --model textcnn" in err


def test_predict_refuses_what_is_not_an_image(trained, tmp_path, capsys):
    model = str(trained["mlp"] / "model.safetensors")
    (tmp_path / "notes.png").write_text("not an image at all")
    assert main(["predict", model, str(tmp_path / "notes.png")]) == 1
    assert "expected a PNG or JPEG image" in capsys.readouterr().err
    assert main(["predict", model, "a sentence for an image model"]) == 1
    assert "no such file; this model classifies images" in capsys.readouterr().err
    assert main(["evaluate", model, "--dataset", "spiral"]) == 1  # was a reshape error
    assert "takes images, but --dataset spiral holds 2-D points" in capsys.readouterr().err


def test_the_zoo_lists_loads_and_refuses_a_damaged_file(tmp_path, monkeypatch, capsys):
    index = zoo.zoo_index()
    assert {"mlp-fashion", "course-cnn-fashion", "resnet14-fashion"} <= set(index)
    assert main(["zoo", "list"]) == 0
    listed = capsys.readouterr().out
    for name, entry in index.items():
        assert name in listed and f"{100 * entry['test_accuracy']:.2f}%" in listed
        assert entry["sha256"] == zoo.sha256_of(zoo.ZOO_DIR / entry["file"])
    model = glassnet.models.pretrained("mlp-fashion")
    assert not model.training and model.num_parameters() == index["mlp-fashion"]["parameters"]
    # a copy of the zoo with one flipped byte fails its checksum, with a one-line error
    damaged = tmp_path / "zoo"
    damaged.mkdir()
    entry = index["mlp-fashion"]
    data = bytearray((zoo.ZOO_DIR / entry["file"]).read_bytes())
    data[-1] ^= 1
    (damaged / entry["file"]).write_bytes(bytes(data))
    (damaged / "index.json").write_text(json.dumps({"mlp-fashion": entry}))
    monkeypatch.setattr(zoo, "ZOO_DIR", damaged)
    monkeypatch.setattr(zoo, "INDEX", damaged / "index.json")
    with pytest.raises(zoo.ZooError, match="fails its checksum"):
        glassnet.models.pretrained("mlp-fashion")
    assert main(["evaluate", "mlp-fashion"]) == 1
    assert "fails its checksum" in capsys.readouterr().err
    with pytest.raises(zoo.ZooError, match="no zoo model 'nope'"):
        glassnet.models.pretrained("nope")


def test_every_zoo_model_scores_its_recorded_accuracy_on_the_real_test_set(fashion_mnist_dir, capsys):
    """`glassnet evaluate NAME` on the 10,000 Fashion-MNIST test images gives each zoo entry's recorded
    test accuracy to the image: the number in index.json (and the README) is the file's, not a run's."""
    for name, entry in zoo.zoo_index().items():
        assert main(["evaluate", name, "--data-dir", str(fashion_mnist_dir)]) == 0
        correct = int(re.search(r"accuracy: [\d.]+% \((\d+)/10000\)", capsys.readouterr().out).group(1))
        assert correct == round(10000 * entry["test_accuracy"]), (name, correct, entry["test_accuracy"])


def test_finetune_replaces_the_head_and_freezes_the_body(trained, tmp_path, capsys):
    source = trained["resnet_small"] / "model.safetensors"
    before = glassnet.io.load_state_dict(source)
    out = tmp_path / "ft"
    assert main(["train", "--finetune", str(source), "--dataset", "fashion-mnist", "--per-class", "3",
                 "--val", "30", "--freeze", "body", "--epochs", "2", "--batch-size", "10", "--test-limit", "50",
                 "--threads", "1", "--quiet", "--no-figures", "--out", str(out)]) == 0
    after = glassnet.io.load_state_dict(out / "model.safetensors")
    assert before.keys() == after.keys()
    for key in before:
        moved = not np.array_equal(before[key], after[key])
        if key.startswith("fc."):
            assert moved, key  # the new head learned
        elif "running" not in key and "num_batches" not in key:
            assert not moved, key  # the frozen body's weights did not
    run = json.loads((out / "run.json").read_text())
    assert run["options"]["model"] == "resnet_small" and run["options"]["blocks"] == "1"  # the source's
    assert "30 validation" not in capsys.readouterr().out  # quiet
    # --freeze N and --body-lr-scale
    assert main(["train", "--finetune", str(source), "--per-class", "3", "--val", "30", "--freeze", "2",
                 "--body-lr-scale", "0.1", "--epochs", "1", "--batch-size", "10", "--test-limit", "50",
                 "--threads", "1", "--quiet", "--no-figures", "--out", str(tmp_path / "ft2")]) == 0
    tuned = glassnet.io.load_state_dict(tmp_path / "ft2" / "model.safetensors")
    assert np.array_equal(tuned["stages.0.0.conv1.weight"], before["stages.0.0.conv1.weight"])
    assert not np.array_equal(tuned["stages.1.0.conv1.weight"], before["stages.1.0.conv1.weight"])
    assert main(["train", "--finetune", str(source), "--freeze", "9", "--out", str(tmp_path / "x")]) == 1
    assert "the model's layers are stem, stages.0, stages.1, stages.2, fc" in capsys.readouterr().err
    assert main(["train", "--finetune", str(source), "--blocks", "3", "--out", str(tmp_path / "x")]) == 1
    assert "cannot change it" in capsys.readouterr().err


def test_lr_find_suggests_a_rate_and_plots(tmp_path, capsys):
    out = tmp_path / "lr"
    assert main(["lr-find", "--dataset", "spiral", "--arch", "2-32-3", "--optimizer", "sgd", "--steps", "120",
                 "--batch-size", "32", "--threads", "1", "--out", str(out)]) == 0
    result = json.loads((out / "lr_find.json").read_text())
    assert 1e-4 < result["suggestion"] < 10 and result["suggestion_index"] >= 12  # after the burn-in
    assert (out / "lr_find.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "suggested lr:" in capsys.readouterr().out


def test_the_suggestion_ignores_an_early_spike():
    lrs = np.logspace(-6, 1, 100)
    smoothed = 2.0 - 1.5 / (1 + np.exp(-(np.log10(lrs) + 2) * 3))   # falls fastest at lr 1e-2
    smoothed[100 // 2 + 30:] += np.linspace(0, 5, 20)                # diverges at the end
    smoothed[2:5] = [5.0, 0.1, 5.0]                                  # an early spike and a false dip
    index, lowest = suggest(lrs, smoothed, burn_in=0.1)
    assert 0.3 * 1e-2 < lrs[index] < 3 * 1e-2 and index < lowest
    naive, lowest = suggest(lrs, smoothed, burn_in=0.0)
    assert lowest == 3 and naive is None  # without the burn-in the false dip is taken for the minimum


def test_warmup_sets_where_the_one_cycle_rate_peaks():
    from glassnet.cli.train import make_schedule
    model = glassnet.nn.Linear(2, 2)
    optimizer = glassnet.optim.Adam(model.parameters(), lr=0.01)
    schedule, _ = make_schedule({"schedule": "onecycle", "epochs": 2, "warmup": 0.1}, optimizer, True, 50)
    rates = []
    for _ in range(100):
        rates.append(optimizer.param_groups[0]["lr"])
        schedule.step()
    assert int(np.argmax(rates)) == 9 and abs(max(rates) - 0.01) < 1e-12  # the peak after 10% of the 100 steps
    assert abs(rates[0] - 0.01 / 25) < 1e-12


@pytest.mark.parametrize("config", sorted(p.name for p in (Path(__file__).resolve().parents[1] / "configs").glob("*.toml")))
def test_every_committed_config_resolves_to_known_options(config):
    """The README's results come from configs/: each parses, names only known options of its model, and fits it."""
    from glassnet.cli.main import build_parser
    from glassnet.cli.train import resolve_options
    path = Path(__file__).resolve().parents[1] / "configs" / config
    options = resolve_options(build_parser().parse_args(["train", "--config", str(path)]))
    assert options["model"] in IMAGE_MODELS or options["model"] == "textcnn"
    assert options["out"].startswith("runs/")
