""""Copy as Python": a standalone glassnet script that replays a playground run step by step.

The script builds the same data, the same weights (same generators, same draws) and the same
optimizer, and prints the training loss of every step; for the same seed they equal the
playground's losses bit for bit (``tests/test_playground.py`` runs it and compares).
"""

from __future__ import annotations

from urllib.parse import urlencode

from .config import Config
from .session import INIT_SCHEMES, Session, gain_of

GENERATED = {
    "spiral": "make_spiral({n_per_class}, {classes}, {noise!r}, generator=data_rng)",
    "xor": "make_xor({points}, {noise!r}, generator=data_rng)",
    "circles": "make_circles({points}, {noise!r}, 0.5, generator=data_rng)",
    "moons": "make_moons({points}, {noise!r}, generator=data_rng)",
    "blobs": "make_blobs({points}, {classes}, {noise!r}, generator=data_rng)",
}
ACTIVATION_CODE = {"relu": "nn.ReLU()", "leaky_relu": "nn.LeakyReLU(0.01)", "prelu": "nn.PReLU({width})",
                   "rrelu": "nn.RReLU(generator=noise_rng)", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()"}


def _optimizer_code(c: Config) -> str:
    if c.optimizer == "sgd":
        return f"optim.SGD(model.parameters(), lr={c.lr!r})"
    if c.optimizer in ("momentum", "nesterov"):
        nesterov = c.optimizer == "nesterov" and c.momentum > 0
        return f"optim.SGD(model.parameters(), lr={c.lr!r}, momentum={c.momentum!r}, nesterov={nesterov})"
    name = {"adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam"}[c.optimizer]
    return f"optim.{name}(model.parameters(), lr={c.lr!r})"


def _cost_code(c: Config, outputs: int) -> str:
    if c.cost == "softmax":
        return "F.cross_entropy(out, y)"
    if c.cost == "svm":
        return f"F.svm_loss(out, y, {c.margin!r})"
    if c.cost == "sigmoid" and outputs == 1:
        return "F.binary_cross_entropy_with_logits(out, y.reshape(-1, 1).astype(np.float32))"
    target = "one_hot(y, CLASSES).astype(np.float32)"
    if c.cost == "sigmoid":
        return f"F.binary_cross_entropy_with_logits(out, {target}, reduction=\"sum\") / len(y)"
    return f"F.quadratic_cost(F.sigmoid(out), {target})"


def _penalty_code(c: Config) -> list:
    terms = []
    if c.l1:
        terms.append(f"({c.l1!r} / n) * F.l1_penalty(weights)")
    if c.l2:
        terms.append(f"({c.l2!r} / (2 * n)) * F.l2_penalty(weights)")
    if not terms:
        return []
    return ["", "", "def penalty():", "    \"\"\"(λ1/n)·Σ|w| + (λ2/2n)·Σw² over the weights (not the biases).\"\"\"",
            "    n = len(y_train)", f"    return {' + '.join(terms)}"]


def python_script(session: Session) -> str:
    """The glassnet script of ``session``'s run (its config; for CSV data it reads the file)."""
    c = session.config
    n_points = len(session.split.y_train) + len(session.split.y_test)
    n_train = len(session.split.y_train)
    imports = ["make_blobs", "make_circles", "make_moons", "make_spiral", "make_xor"]
    if c.dataset == "csv":
        data = [f"CSV_PATH = sys.argv[2] if len(sys.argv) > 2 else {session.csv_data.name!r}",
                "with open(CSV_PATH, encoding=\"utf-8\") as f:",
                "    table = parse_csv(f.read(), CSV_PATH)",
                "x, y = table.x, table.y"]
        imports = []
    else:
        data = ["x, y = " + GENERATED[c.dataset].format(n_per_class=max(1, c.points // c.classes), classes=c.classes,
                                                       noise=c.noise, points=c.points)]
    widths = (2,) + tuple(c.hidden)
    lines, names = [], []
    for i, (n_in, n_out, act) in enumerate(zip(widths, widths[1:], c.activations() if c.hidden else ()), start=1):
        nonlinearity, param = gain_of(act)
        lines.append(f"layer{i} = nn.Linear({n_in}, {n_out}, generator=model_rng)")
        lines.append(f"init.apply(layer{i}, {INIT_SCHEMES[c.init]!r}, {nonlinearity!r}, {param!r}, generator=model_rng)")
        names.append(f"layer{i}")
        if c.batchnorm:
            names.append(f"nn.BatchNorm1d({n_out})")
        names.append(ACTIVATION_CODE[act].format(width=n_out))
        if c.dropout:
            names.append(f"nn.Dropout({c.dropout!r}, generator=noise_rng)")
    head_gain = "sigmoid" if c.cost in ("sigmoid", "quadratic") else "linear"
    lines.append(f"head = nn.Linear({widths[-1]}, {session.outputs}, generator=model_rng)")
    lines.append(f"init.apply(head, {INIT_SCHEMES[c.init]!r}, {head_gain!r}, generator=model_rng)")
    names.append("head")
    linear_names = [n for n in names if n.startswith(("layer", "head"))]
    penalty = _penalty_code(c)
    shape = "-".join(str(w) for w in (*widths, session.outputs))
    url = "/?" + urlencode(c.query())
    script = [
        f'"""A glassnet playground run, exported: {c.dataset}, a {shape} network, seed {c.seed}.',
        "",
        f"Playground URL: {url}",
        "Run: python THIS_FILE.py [STEPS]" + (" [CSV_PATH]" if c.dataset == "csv" else "")
        + " -- prints the training loss of every step",
        "(the playground's own losses, bit for bit), then the accuracies.",
        '"""',
        "",
        "import sys",
        "",
        "import numpy as np",
        "",
        "import glassnet",
        "import glassnet.functional as F",
        "from glassnet import init, nn, optim",
        "from glassnet.data import DataLoader, " + ", ".join(imports + ["one_hot"]),
        *(["from glassnet.playground.datasets import parse_csv"] if c.dataset == "csv" else []),
        "",
        f"SEED = {c.seed}",
        f"CLASSES = {session.classes}",
        "STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 5000",
        "",
        "# The data, then the train/test split: both from one generator seeded with SEED.",
        "data_rng = np.random.default_rng(SEED)",
        *data,
        "order = data_rng.permutation(len(x))",
        f"train, test = order[:{n_train}], order[{n_train}:]  # {n_train} of {n_points} points for training",
        "x_train, y_train, x_test, y_test = x[train], y[train], x[test], y[test]",
        "",
        "# The network: weights from their own generator, dropout/RReLU noise from another.",
        "model_rng = np.random.default_rng([SEED, 1])",
        "noise_rng = np.random.default_rng([SEED, 3])",
        *lines,
        f"model = nn.Sequential({', '.join(names)})",
        f"weights = [{', '.join(n + '.weight' for n in linear_names)}]",
        f"optimizer = {_optimizer_code(c)}",
        f"loader = DataLoader((x_train, y_train), batch_size={c.batch}, shuffle=True,",
        "                    generator=np.random.default_rng([SEED, 2]))",
        "",
        "",
        "def cost(out, y):",
        f"    return {_cost_code(c, session.outputs)}",
        *penalty,
        "",
        "",
        "def accuracy(x, y):",
        "    model.eval()",
        "    with glassnet.no_grad():",
        "        out = model(glassnet.tensor(x)).data",
        "    predicted = " + ("(out[:, 0] > 0).astype(np.int64)" if session.outputs == 1 else "out.argmax(axis=1)"),
        "    return float((predicted == y).mean())",
        "",
        "",
        "step = 0",
        "while step < STEPS:",
        "    for xb, yb in loader:  # a new shuffle every epoch",
        "        if step == STEPS:",
        "            break",
        "        model.train()",
        "        optimizer.zero_grad()",
        "        loss = cost(model(xb), yb.data)" + (" + penalty()" if penalty else ""),
        "        loss.backward()",
        "        optimizer.step()",
        "        step += 1",
        "        print(f\"step {step} loss {float(loss.item())!r}\")",
        "print(f\"train accuracy {accuracy(x_train, y_train):.4f}  test accuracy {accuracy(x_test, y_test):.4f}\")",
        "",
    ]
    return "\n".join(script)
