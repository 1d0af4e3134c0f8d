"""The playground: its setup/URL parsing, CSV files, sessions (the real glassnet training), the
"copy as Python" export, and the server with its per-tab training threads."""

import contextlib
import io
import json
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from glassnet.playground import Config, CSVError, Session, parse, parse_csv
from glassnet.playground.export import python_script

starlette = pytest.importorskip("starlette", reason="the playground server needs starlette (glassnet[playground])")
from starlette.testclient import TestClient  # noqa: E402

from glassnet.playground.server import Runner, create_app  # noqa: E402


# ------------------------------------------------------------------ setup and URL
def test_defaults_are_the_spiral_with_a_2_16_16_3_relu_net():
    c = parse({})
    assert (c.dataset, c.classes, c.hidden, c.activations(), c.cost, c.errors) == \
        ("spiral", 3, (16, 16), ("relu", "relu"), "softmax", ())


def test_the_issue_url_parses_and_round_trips():
    c = parse({"dataset": "spiral", "hidden": "16,16", "activation": "relu", "lr": "0.01", "seed": "0",
               "autostart": "1"})
    assert c.errors == () and c.autostart and c.lr == 0.01
    assert parse(c.query()) == c


def test_bad_parameters_keep_their_defaults_and_say_why():
    c = parse({"lr": "fast", "hidden": "16,0", "dataset": "mnist", "dropout": "1.5", "colour": "red"})
    assert (c.lr, c.hidden, c.dataset, c.dropout) == (Config.lr, Config.hidden, Config.dataset, Config.dropout)
    text = "\n".join(c.errors)
    assert "lr: expected a number in (0.0, 10.0], got 'fast'" in text
    assert "hidden: expected at most 6 layer widths, each 1 to 32, got '16,0'" in text
    assert "dataset: expected one of spiral, xor, circles, moons, blobs, csv, got 'mnist'" in text
    assert "dropout: expected a number in [0.0, 0.9], got '1.5'" in text
    assert "colour: unknown parameter" in text


def test_one_activation_per_layer_or_one_for_all():
    assert parse({"hidden": "4,3", "activation": "tanh,prelu"}).activations() == ("tanh", "prelu")
    c = parse({"hidden": "4,3", "activation": "tanh,prelu,relu"})
    assert c.activations() == ("relu", "relu") and "one per hidden layer" in c.errors[0]
    assert parse({"dataset": "xor", "classes": "5"}).classes == 2  # XOR has two classes


# ------------------------------------------------------------------ CSV files
def test_a_csv_file_with_a_header_and_text_labels():
    rows = "\n".join(f"{i * 0.1},{-i * 0.2},{'cat' if i % 2 else 'dog'}" for i in range(12))
    data = parse_csv("x,y,label\n" + rows + "\n\n")
    assert data.x.shape == (12, 2) and data.x.dtype == np.float32
    assert data.class_names == ("cat", "dog") and list(data.y[:3]) == [1, 0, 1]
    numeric = parse_csv("\n".join(f"{i},{i},{10 if i % 3 else 2}" for i in range(12)))
    assert numeric.class_names == ("2", "10")  # numeric labels sort as numbers


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("1,2,a\n3,4\n", "line 2: expected 3 comma-separated fields (x1, x2, label), got 2"),
    ("1,2,a\n3,4,b\n5,six,a\n", "line 3: the features must be numbers, got 'six'"),
    ("1,2,a\n3,inf,b\n", "line 2: the features must be finite numbers"),
    ("1,2,a\n3,4,\n", "line 2: the label (third field) is empty"),
    ("\n".join(f"{i},{i},a" for i in range(12)), "expected 2 to 10 distinct labels, got 1"),
    ("1,2,a\n3,4,b\n", "expected at least 10 rows"),
    ("\n".join(f"{i},{i},{i % 2}" for i in range(10_001)), "more than 10,000 rows (line 10001)"),
], ids=["empty", "fields", "number", "finite", "label", "one-class", "few-rows", "too-many-rows"])
def test_a_bad_csv_file_is_refused_with_line_and_reason(text, message):
    with pytest.raises(CSVError, match="data.csv") as e:
        parse_csv(text)
    assert message in str(e.value)


# ------------------------------------------------------------------ sessions
def _losses(session, steps):
    return [session.train_step() for _ in range(steps)]


def test_same_seed_same_run_and_reset_replays_it_bit_for_bit():
    config = parse({"dropout": "0.1", "activation": "rrelu", "batchnorm": "1"})  # every noise source
    first = Session(config)
    losses = _losses(first, 40)
    assert losses == _losses(Session(config), 40)
    first.frame()
    first.probe(0.3, -0.2)  # watching must not change the run
    first.reset()
    assert _losses(first, 40) == losses
    assert losses != _losses(Session(parse({"seed": "1", "dropout": "0.1", "activation": "rrelu",
                                            "batchnorm": "1"})), 40)


def test_batch_norm_skips_a_last_batch_of_one_point_and_refuses_batches_of_one():
    """Regression: with 221 training points in batches of 10, the 23rd batch of an epoch held 1 point
    and batch norm raised (no variance over one point); that batch is now skipped."""
    session = Session(parse({"batchnorm": "1", "points": "276"}))
    assert len(session.split.y_train) == 221 and len(session.loader) == 22
    assert all(np.isfinite(_losses(session, 50)))  # two epochs and more
    c = parse({"batchnorm": "1", "batch": "1"})
    assert c.batch == Config.batch and c.errors == ("batch: batch norm needs at least 2 points per batch, got 1",)
    assert not Session(parse({"points": "276"})).drops_last_batch()  # without batch norm every point is used


def test_the_default_spiral_net_learns_it():
    session = Session(parse({}))
    _losses(session, 800)  # 24 epochs of 240 points in batches of 10
    frame = session.frame()
    assert frame["train_accuracy"] >= 0.95 and frame["test_accuracy"] >= 0.9


@pytest.mark.parametrize("query", [
    {"dataset": "xor", "cost": "svm", "margin": "0.5", "hidden": "4", "optimizer": "momentum", "init": "xavier"},
    {"dataset": "moons", "cost": "sigmoid", "hidden": "6", "activation": "tanh", "optimizer": "rmsprop"},
    {"dataset": "blobs", "classes": "4", "cost": "sigmoid", "activation": "sigmoid", "optimizer": "adagrad",
     "init": "book", "lr": "0.1"},
    {"dataset": "circles", "cost": "quadratic", "hidden": "5,2", "activation": "leaky_relu", "init": "normal",
     "optimizer": "nesterov", "l1": "0.01", "l2": "0.1"},
    {"hidden": "", "init": "small", "optimizer": "sgd", "lr": "0.5"},
])
def test_every_cost_optimizer_and_init_trains_and_renders(query):
    session = Session(parse(query))
    losses = _losses(session, 200)
    assert all(np.isfinite(losses)) and np.mean(losses[-20:]) < np.mean(losses[:20])
    frame = session.frame()
    json.dumps(frame, allow_nan=False)
    assert len(frame["layers"]) == len(session.config.hidden)
    g = session.setup()["grid"]
    regions = np.frombuffer(__import__("base64").b64decode(frame["regions"]), np.uint8).reshape(session.classes, g, g)
    assert np.abs(regions.astype(int).sum(axis=0) - 255).max() <= session.classes  # probabilities sum to 1


def test_the_probe_gradient_is_backpropagation_done_by_hand():
    """∂C/∂z of the last hidden ReLU layer under softmax cross-entropy: (W_outᵀ(p − y)) ⊙ relu′(z)."""
    session = Session(parse({"hidden": "5,4"}))
    _losses(session, 30)
    p = session.probe(0.25, -0.4)
    last = p["layers"][-1]
    w = session.linears[-1].weight.data.astype(np.float64)
    target = np.eye(3)[p["label"]]
    out = w @ np.asarray(last["a"]) + session.linears[-1].bias.data
    probs = np.exp(out - out.max()) / np.exp(out - out.max()).sum()
    expected = (w.T @ (probs - target)) * (np.asarray(last["z"]) > 0)
    np.testing.assert_allclose(last["dz"], expected, atol=2e-5)
    first = session.linears[0]
    np.testing.assert_allclose(p["layers"][0]["u"], first.weight.data @ [0.25, -0.4] + first.bias.data, atol=2e-5)


def test_zero_init_never_breaks_symmetry_and_its_relu_units_are_dead():
    session = Session(parse({"init": "zeros", "hidden": "6", "optimizer": "sgd", "lr": "0.5"}))
    _losses(session, 50)
    w = session.linears[0].weight.data
    assert np.all(w == w[0])  # every unit of the layer is the same unit
    assert all(session.frame()["layers"][0]["dead"])


def test_a_2_unit_layer_gets_the_warped_plane_and_tanh_saturation_is_reported():
    frame = Session(parse({"hidden": "8,2"})).frame()
    assert len(frame["warps"]) == 1 and frame["warps"][0]["layer"] == 1
    rng = np.random.default_rng(0)  # unscaled inputs (|x| up to 20) and N(0, 1) weights saturate tanh units
    rows = "\n".join(f"{a},{b},{int(a > b)}" for a, b in rng.uniform(-20, 20, (100, 2)))
    session = Session(parse({"dataset": "csv", "hidden": "8", "activation": "tanh", "init": "normal"}), parse_csv(rows))
    saturated = session.frame()["layers"][0]["saturated"]
    a = np.tanh(session.split.x_train @ session.linears[0].weight.data.T + session.linears[0].bias.data)
    assert saturated == list((np.abs(a) > 0.96).mean(axis=0) >= 0.9) and sum(saturated) >= 4


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_huge_learning_rate_is_stopped_with_a_diagnosis():
    session = Session(parse({"optimizer": "sgd", "lr": "10", "cost": "svm", "init": "normal", "hidden": "32,32,32"}))
    for _ in range(100):
        session.train_step()
        if session.diverged():
            break
    assert session.diverged() and not np.isfinite(session.last_loss)
    json.dumps(session.frame(), allow_nan=False)  # a frame of a diverged run is still valid JSON


# ------------------------------------------------------------------ copy as Python
@pytest.mark.parametrize("query", [
    {},
    {"dataset": "moons", "cost": "sigmoid", "dropout": "0.2", "batchnorm": "1", "hidden": "6,5",
     "activation": "prelu,rrelu", "optimizer": "nesterov", "l1": "0.01", "l2": "0.1", "init": "xavier", "batch": "7"},
    {"dataset": "blobs", "classes": "4", "cost": "quadratic", "activation": "sigmoid", "optimizer": "adagrad"},
    {"batchnorm": "1", "points": "276", "batch": "10", "hidden": "6"},  # 221 training points: a last batch of 1
])
def test_the_exported_script_reproduces_the_losses_step_by_step(query, tmp_path, monkeypatch):
    session = Session(parse(query))
    script = tmp_path / "run.py"
    script.write_text(python_script(session))
    expected = [repr(v) for v in _losses(session, 75)]  # 3 epochs and more: crosses the ends of epochs
    monkeypatch.setattr(sys, "argv", [str(script), "75"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(script), run_name="__main__")
    lines = out.getvalue().splitlines()
    assert [line.split()[-1] for line in lines if line.startswith("step ")] == expected
    assert lines[-1].startswith("train accuracy")


def test_the_exported_script_of_a_csv_run_reads_the_file(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    rows = [f"{a:.4f},{b:.4f},{'in' if a * a + b * b < 0.5 else 'out'}" for a, b in rng.uniform(-1, 1, (150, 2))]
    path = tmp_path / "ring.csv"
    path.write_text("x1,x2,where\n" + "\n".join(rows))
    session = Session(parse({"dataset": "csv"}), parse_csv(path.read_text(), str(path)))
    assert session.classes == 2
    script = tmp_path / "run.py"
    script.write_text(python_script(session))
    expected = [repr(v) for v in _losses(session, 20)]
    monkeypatch.setattr(sys, "argv", [str(script), "20", str(path)])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(script), run_name="__main__")
    assert [line.split()[-1] for line in out.getvalue().splitlines() if line.startswith("step ")] == expected


# ------------------------------------------------------------------ the server
@pytest.fixture
def client():
    with TestClient(create_app()) as c:
        yield c


def _until(ws, kind, predicate=lambda m: True, limit=400):
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind and predicate(message):
            return message
    raise AssertionError(f"no {kind} message came")


def _runner_threads():
    return [t for t in threading.enumerate() if isinstance(t, Runner)]


def test_the_page_and_its_test_contract(client):
    html = client.get("/").text
    for testid in ("play", "loss", "train-accuracy", "test-accuracy", "decision-boundary", "step", "reset",
                   "speed", "export", "message"):
        assert f'data-testid="{testid}"' in html
    assert "http" not in html.replace("http-equiv", "")  # no CDN: everything comes from this server
    assert client.get("/static/app.js").status_code == 200
    schema = client.get("/api/schema").json()
    assert schema["choices"]["optimizer"] == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    checked = client.get("/api/config?lr=-1&hidden=8").json()
    assert checked["config"]["hidden"] == "8" and checked["errors"][0].startswith("lr: expected")


def test_a_session_plays_pauses_steps_probes_and_exports(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "config", "query": {"hidden": "8,8", "seed": "3", "lr": "bad", "autostart": "1"}})
        setup = _until(ws, "setup")
        assert setup["layers"] == [2, 8, 8, 3] and "lr: expected" in setup["errors"][0]
        # autostart: it plays (the curve gains a point per frame, so wait for two of them)
        frame = _until(ws, "frame", lambda m: m["step"] > 100 and len(m["history"]) >= 2)
        assert frame["playing"] and 0 <= frame["train_accuracy"] <= 1
        ws.send_json({"type": "pause"})
        paused = _until(ws, "frame", lambda m: not m["playing"])
        ws.send_json({"type": "step"})
        assert _until(ws, "frame")["step"] == paused["step"] + 1
        ws.send_json({"type": "probe", "x": 0.1, "y": 0.2})
        assert len(_until(ws, "probe")["layers"]) == 2
        ws.send_json({"type": "export"})
        assert "optim.Adam(model.parameters(), lr=0.01)" in _until(ws, "export")["code"]
        ws.send_json({"type": "reset"})
        assert _until(ws, "frame")["step"] == 0
        ws.send_text("not json")
        assert "bad command" in _until(ws, "error")["message"]
        ws.send_json({"type": "fly"})
        assert "unknown command 'fly'" in _until(ws, "error")["message"]
        ws.send_json({"type": "csv", "name": "mine.csv", "text": "1,2,a\n3,x,b\n"})
        assert _until(ws, "error")["message"] == "mine.csv, line 2: the features must be numbers, got 'x'"
        ws.send_json({"type": "step", "count": 3})  # still working after the bad input
        assert _until(ws, "frame")["step"] == 3
        rows = "\n".join(f"{i / 10},{(i % 7) / 10},{i % 2}" for i in range(40))
        ws.send_json({"type": "csv", "name": "mine.csv", "text": rows})
        assert _until(ws, "setup")["config"]["dataset"] == "csv"
        ws.send_json({"type": "config", "query": {"batchnorm": "1", "points": "10", "train_fraction": "0.1"}})
        assert "batch norm needs at least 2 training points, got 1" in _until(ws, "error")["message"]
        ws.send_json({"type": "step"})  # the run before the refused setup goes on
        assert _until(ws, "frame")["step"] == 1


def test_a_first_setup_that_cannot_be_built_falls_back_to_the_defaults(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "config", "query": {"batchnorm": "1", "points": "10", "train_fraction": "0.1"}})
        setup = _until(ws, "setup")
        assert setup["config"]["points"] == "300" and "at least 2 training points" in setup["errors"][-1]


def test_two_tabs_are_two_sessions_and_closing_one_stops_its_thread(client):
    deadline = time.time() + 5  # a session of the previous test may still be joining its thread
    while _runner_threads() and time.time() < deadline:
        time.sleep(0.02)
    before = len(_runner_threads())
    with client.websocket_connect("/ws") as a:
        a.send_json({"type": "config", "query": {"seed": "1", "autostart": "1"}})
        with client.websocket_connect("/ws") as b:
            b.send_json({"type": "config", "query": {"seed": "2"}})
            _until(b, "frame")
            assert len(_runner_threads()) == before + 2
            b.send_json({"type": "step", "count": 5})
            assert _until(b, "frame")["step"] == 5  # b is paused and stepped: a's play does not reach it
            assert _until(a, "frame", lambda m: m["step"] > 5)["playing"]
        deadline = time.time() + 5
        while len(_runner_threads()) > before + 1 and time.time() < deadline:
            time.sleep(0.02)
        assert len(_runner_threads()) == before + 1  # b's thread stopped and joined while a trains on
        assert _until(a, "frame")["playing"]
    deadline = time.time() + 5
    while len(_runner_threads()) > before and time.time() < deadline:
        time.sleep(0.02)
    assert len(_runner_threads()) == before


def test_ctrl_c_stops_the_server_and_its_training_threads():
    websockets_sync = pytest.importorskip("websockets.sync.client")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "glassnet.cli.main", "playground", "--port", str(port),
                             "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://localhost:{port}/" in line
        with websockets_sync.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            ws.send(json.dumps({"type": "config", "query": {"autostart": "1"}}))
            while json.loads(ws.recv(timeout=10))["type"] != "frame":
                pass
            proc.send_signal(signal.SIGINT)  # while a session trains
            out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert "stopped (every session's training thread joined)" in out and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_command_line(capsys):
    from glassnet.cli.main import main
    with pytest.raises(SystemExit):
        main(["playground", "--help"])
    assert "--no-browser" in capsys.readouterr().out
    assert main(["playground", "--port", "70000", "--no-browser"]) == 1
    assert "--port must be from 1 to 65535, got 70000" in capsys.readouterr().err


def test_make_blobs_puts_one_gaussian_per_class_on_the_unit_circle():
    from glassnet.data import make_blobs
    x, y = make_blobs(3000, centers=3, std=0.1, generator=np.random.default_rng(0))
    assert x.shape == (3000, 2) and x.dtype == np.float32 and np.bincount(y).tolist() == [1000] * 3
    for k in range(3):
        mean = x[y == k].mean(axis=0)
        np.testing.assert_allclose(mean, [np.cos(2 * np.pi * k / 3), np.sin(2 * np.pi * k / 3)], atol=0.02)
        np.testing.assert_allclose(x[y == k].std(axis=0), 0.1, rtol=0.1)
    again, _ = make_blobs(3000, centers=3, std=0.1, generator=np.random.default_rng(0))
    assert np.array_equal(x, again)
