"""One learner's run: the data, the glassnet model, its optimizer, and what the views show.

A :class:`Session` is plain glassnet code (``nn.Sequential``, ``optim``, ``functional``, ``init``)
plus the read-outs the page draws. It is not thread-safe: one thread drives it (see ``server``).

Randomness comes from four generators seeded from ``config.seed``: the data and its split
(``default_rng(seed)``), the weights (``default_rng([seed, 1])``), the mini-batch order
(``[seed, 2]``) and dropout/RReLU noise (``[seed, 3]``). Nothing the views compute draws from
them, so watching never changes the run, and :meth:`reset` replays it bit for bit.
"""

from __future__ import annotations

import base64
import math

import numpy as np

from .. import functional as F
from .. import init, nn, optim
from ..data import DataLoader, one_hot
from ..tensor import Tensor, no_grad
from .config import Config
from .datasets import CSVData, make_split

GRID = 64            # decision regions: GRID × GRID points of the plane
NEURON_STRIDE = 2    # neuron heat maps: every 2nd grid point (32 × 32)
WARP_LINES, WARP_POINTS = 15, 48
DIAGNOSTIC_ROWS = 2000   # histograms and dead units use at most this many training points
HISTORY_LIMIT = 400
HIST_BINS = 24

INIT_SCHEMES = {"he": "he_normal", "xavier": "xavier_normal", "book": "book", "normal": "large",
                "small": "small", "zeros": "zeros"}
RRELU_MEAN_SLOPE = (1 / 8 + 1 / 3) / 2
ACTIVATION_TYPES = (nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.Tanh, nn.Sigmoid)


def gain_of(activation: str) -> tuple:
    """(nonlinearity, param) of ``init.calculate_gain`` for a hidden activation."""
    return {"relu": ("relu", None), "leaky_relu": ("leaky_relu", 0.01), "prelu": ("leaky_relu", 0.25),
            "rrelu": ("leaky_relu", RRELU_MEAN_SLOPE), "tanh": ("tanh", None),
            "sigmoid": ("sigmoid", None)}[activation]


def activation_module(name: str, width: int, generator) -> nn.Module:
    """The hidden layer's nonlinearity (PReLU: one learned slope per unit)."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.01)
    if name == "prelu":
        return nn.PReLU(width)
    if name == "rrelu":
        return nn.RReLU(generator=generator)
    return nn.Tanh() if name == "tanh" else nn.Sigmoid()


def b64(array: np.ndarray) -> str:
    """The bytes of ``array`` (little-endian) in base64, for the page's typed arrays."""
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def to_unit_bytes(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``values`` mapped linearly from [low, high] to 0..255 (uint8); NaN becomes the middle."""
    scale = 255.0 / (high - low) if high > low else 0.0
    mapped = (values - low) * scale + 0.5
    mapped[np.isnan(mapped)] = 128.0
    return np.clip(mapped, 0, 255).astype(np.uint8)


class Session:
    """A playground run of ``config`` (and the loaded CSV file for ``dataset=csv``)."""

    def __init__(self, config: Config, csv_data: CSVData | None = None):
        self.config, self.csv_data = config, csv_data
        self.reset()

    # ------------------------------------------------------------------ building
    def reset(self) -> None:
        """Rebuild data, weights, optimizer and batch order from the seed: the same run again."""
        c = self.config
        self.split = make_split(c, self.csv_data)
        self.classes = self.split.classes
        self.outputs = 1 if c.cost == "sigmoid" and self.classes == 2 else self.classes
        model_rng = np.random.default_rng([c.seed, 1])
        noise_rng = np.random.default_rng([c.seed, 3])
        widths = (2,) + tuple(c.hidden)
        activations = c.activations() if c.hidden else ()
        layers = []
        for n_in, n_out, act in zip(widths, widths[1:], activations):
            linear = nn.Linear(n_in, n_out, generator=model_rng)
            init.apply(linear, INIT_SCHEMES[c.init], *gain_of(act), generator=model_rng)
            layers.append(linear)
            if c.batchnorm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(activation_module(act, n_out, noise_rng))
            if c.dropout:
                layers.append(nn.Dropout(c.dropout, generator=noise_rng))
        head = nn.Linear(widths[-1], self.outputs, generator=model_rng)
        init.apply(head, INIT_SCHEMES[c.init], "sigmoid" if c.cost in ("sigmoid", "quadratic") else "linear",
                   generator=model_rng)
        self.model = nn.Sequential(*layers, head)
        self.linears = [m for m in self.model if isinstance(m, nn.Linear)]
        self.optimizer = self._optimizer()
        self.loader = DataLoader((self.split.x_train, self.split.y_train), batch_size=c.batch, shuffle=True,
                                 generator=np.random.default_rng([c.seed, 2]))
        self._batches = iter(self.loader)
        self.step_count, self.epoch = 0, 0
        self.last_loss = math.nan
        self.history = []  # (step, train loss, test loss, train accuracy, test accuracy)
        self._grid = self._plane_grid()

    def _optimizer(self) -> optim.Optimizer:
        c, params = self.config, list(self.model.parameters())
        if c.optimizer in ("sgd", "momentum", "nesterov"):
            momentum = 0.0 if c.optimizer == "sgd" else c.momentum
            return optim.SGD(params, lr=c.lr, momentum=momentum, nesterov=c.optimizer == "nesterov" and momentum > 0)
        if c.optimizer == "adagrad":
            return optim.Adagrad(params, lr=c.lr)
        if c.optimizer == "rmsprop":
            return optim.RMSprop(params, lr=c.lr)
        return optim.Adam(params, lr=c.lr)

    def _plane_grid(self) -> np.ndarray:
        """The GRID × GRID points of the view, row by row from the top (y max) down: float32 (GRID², 2)."""
        x0, x1, y0, y1 = self.split.bounds
        xs = np.linspace(x0, x1, GRID)
        ys = np.linspace(y1, y0, GRID)
        gx, gy = np.meshgrid(xs, ys)
        return np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)

    # ------------------------------------------------------------------ the math
    def cost(self, out: Tensor, y: np.ndarray) -> Tensor:
        """The data cost C0 of output scores ``out`` (N, outputs) against labels ``y`` (N,)."""
        c = self.config
        if c.cost == "softmax":
            return F.cross_entropy(out, y)
        if c.cost == "svm":
            return F.svm_loss(out, y, c.margin)
        if c.cost == "sigmoid" and self.outputs == 1:
            return F.binary_cross_entropy_with_logits(out, y.reshape(-1, 1).astype(np.float32))
        target = one_hot(y, self.classes).astype(np.float32)
        if c.cost == "sigmoid":  # one sigmoid unit per class (the book's chapter 3): Σ over units, mean over x
            return F.binary_cross_entropy_with_logits(out, target, reduction="sum") / len(y)
        return F.quadratic_cost(F.sigmoid(out), target)

    def penalty(self) -> Tensor | None:
        """(λ1/n)·Σ|w| + (λ2/2n)·Σw² over the weights (not biases), n = training-set size."""
        c, n = self.config, len(self.split.y_train)
        weights = [m.weight for m in self.linears]
        terms = []
        if c.l1:
            terms.append((c.l1 / n) * F.l1_penalty(weights))
        if c.l2:
            terms.append((c.l2 / (2 * n)) * F.l2_penalty(weights))
        return sum(terms[1:], terms[0]) if terms else None

    def probabilities(self, out: np.ndarray) -> np.ndarray:
        """What the page shades the plane with: (N, classes) rows summing to 1 — softmax of
        the scores (softmax, SVM), or the sigmoid outputs normalised (sigmoid, quadratic)."""
        if self.outputs == 1:
            p = 1 / (1 + np.exp(-out[:, :1].astype(np.float64)))
            return np.concatenate([1 - p, p], 1)
        if self.config.cost in ("softmax", "svm"):
            e = np.exp(out - out.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        p = 1 / (1 + np.exp(-out.astype(np.float64)))
        return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)

    def predictions(self, out: np.ndarray) -> np.ndarray:
        return (out[:, 0] > 0).astype(np.int64) if self.outputs == 1 else out.argmax(axis=1)

    def train_step(self) -> float:
        """One mini-batch step: zero_grad, forward, C0 + penalty, backward, optimizer step."""
        try:
            xb, yb = next(self._batches)
        except StopIteration:
            self.epoch += 1
            self._batches = iter(self.loader)
            xb, yb = next(self._batches)
        self.model.train()
        self.optimizer.zero_grad()
        loss = self.cost(self.model(xb), yb.data)
        extra = self.penalty()
        if extra is not None:
            loss = loss + extra
        loss.backward()
        self.optimizer.step()
        self.step_count += 1
        self.last_loss = float(loss.item())
        return self.last_loss

    def trace(self, x: np.ndarray, y: np.ndarray | None = None):
        """An evaluation-mode forward pass of ``x`` (N, 2) that keeps every hidden layer.

        Returns ``(out, layers)``: the output scores (N, outputs) and per hidden layer a dict
        with ``u`` = w·x + b (N, width), ``z`` = the activation's input (u, or BN(u)) and
        ``a`` = the activation. Given labels ``y``, also backpropagates C0 and adds ``dz`` =
        ∂C0/∂z (N, width), read from a zero tensor added to z (its gradient is ∂C0/∂z).
        """
        self.model.eval()
        layers, probes, h = [], [], Tensor(np.asarray(x, dtype=np.float32))
        for module in self.model:
            if isinstance(module, ACTIVATION_TYPES):
                if y is not None:
                    probe = Tensor(np.zeros(h.shape, dtype=h.data.dtype), requires_grad=True)
                    probes.append(probe)
                    h = h + probe
                layers[-1]["z"] = h.data
                h = module(h)
                layers[-1]["a"] = h.data
                continue
            h = module(h)
            if isinstance(module, nn.Linear) and module is not self.linears[-1]:
                layers.append({"u": h.data})
        if y is not None:
            self.cost(h, y).backward()
            for record, probe in zip(layers, probes):
                record["dz"] = probe.grad
            self.model.zero_grad()
        return h.data, layers

    def evaluate(self, x: np.ndarray, y: np.ndarray):
        """(C0, accuracy) on points ``x`` with labels ``y``, in evaluation mode."""
        if len(y) == 0:
            return math.nan, math.nan
        with no_grad():
            out, _ = self.trace(x, None)
            loss = float(self.cost(Tensor(out), y).item())
        return loss, float((self.predictions(out) == y).mean())

    # ------------------------------------------------------------------ what the page draws
    def setup(self) -> dict:
        """Sent once per (re)build: the setup, the points and the network's shape."""
        s = self.split
        return {"type": "setup", "config": self.config.query(), "errors": list(self.config.errors),
                "classes": self.classes, "class_names": list(self.csv_data.class_names) if self.csv_data and
                self.config.dataset == "csv" else [str(k) for k in range(self.classes)],
                "bounds": list(s.bounds), "grid": GRID, "neuron_grid": GRID // NEURON_STRIDE,
                "layers": [2] + list(self.config.hidden) + [self.outputs],
                "activations": list(self.config.activations()) if self.config.hidden else [],
                "train": {"x": b64(s.x_train.astype(np.float32)), "y": b64(s.y_train.astype(np.uint8))},
                "test": {"x": b64(s.x_test.astype(np.float32)), "y": b64(s.y_test.astype(np.uint8))},
                "parameters": self.model.num_parameters()}

    def frame(self) -> dict:
        """Everything the views show now (one batched forward pass over the plane, one
        forward/backward over the training points, one forward over the test points)."""
        s = self.split
        with no_grad():
            grid_out, grid_layers = self.trace(self._grid)
        n_diag = min(len(s.y_train), DIAGNOSTIC_ROWS)
        train_out, train_layers = self.trace(s.x_train[:n_diag], s.y_train[:n_diag])
        train_loss, train_acc = self.evaluate(s.x_train, s.y_train) if n_diag < len(s.y_train) else (
            float(self.cost(Tensor(train_out), s.y_train).item()),
            float((self.predictions(train_out) == s.y_train).mean()))
        test_loss, test_acc = self.evaluate(s.x_test, s.y_test)
        self._record(train_loss, test_loss, train_acc, test_acc)
        probs = self.probabilities(grid_out)
        frame = {"type": "frame", "step": self.step_count, "epoch": self.epoch,
                 "batch_loss": _finite(self.last_loss),
                 "train_loss": _finite(train_loss), "test_loss": _finite(test_loss),
                 "train_accuracy": _finite(train_acc), "test_accuracy": _finite(test_acc),
                 "history": [[row[0]] + [_finite(float(f"{v:.4g}")) for v in row[1:]] for row in self.history],
                 "regions": b64(to_unit_bytes(probs.T.reshape(-1), 0.0, 1.0)),
                 "weights": [{"w": _rounded(m.weight.data), "b": _rounded(m.bias.data)} for m in self.linears],
                 "layers": [], "warps": []}
        nonlinearities = [m for m in self.model if isinstance(m, ACTIVATION_TYPES)]
        for index, (grid_layer, train_layer) in enumerate(zip(grid_layers, train_layers)):
            frame["layers"].append(self._layer_view(index, grid_layer, train_layer, nonlinearities[index]))
            if grid_layer["a"].shape[1] == 2:
                frame["warps"].append(self._warp(index))
        frame["diverged"] = self.diverged()
        return frame

    def diverged(self) -> bool:
        """True once the training loss is no longer a finite number (NaN or infinite)."""
        return self.step_count > 0 and not math.isfinite(self.last_loss)

    def _record(self, *metrics) -> None:
        if self.history and self.history[-1][0] == self.step_count:
            self.history[-1] = (self.step_count, *metrics)
            return
        self.history.append((self.step_count, *metrics))
        if len(self.history) > HISTORY_LIMIT:  # keep the first point, thin the rest to half
            self.history = self.history[:1] + self.history[2::2]

    def _layer_view(self, index: int, grid_layer: dict, train_layer: dict, nonlinearity: nn.Module) -> dict:
        """One hidden layer: neuron heat maps, histograms of a and ∂C/∂z, dead/saturated units."""
        act = self.config.activations()[index]
        g = GRID // NEURON_STRIDE
        maps = grid_layer["a"].reshape(GRID, GRID, -1)[::NEURON_STRIDE, ::NEURON_STRIDE]  # (g, g, width)
        low, high = maps.min(axis=(0, 1)), maps.max(axis=(0, 1))
        scale = np.maximum(np.abs(low), np.abs(high))  # each map is shaded on [-scale, scale]
        scale = np.where(scale > 0, scale, 1.0)
        quantized = to_unit_bytes(np.moveaxis(maps / scale, 2, 0).reshape(-1), -1.0, 1.0)
        a, z, dz = train_layer["a"], train_layer["z"], train_layer["dz"]
        view = {"activation": act, "maps": b64(quantized), "scale": _rounded(scale), "map_size": g,
                "a_hist": _histogram(a), "grad_hist": _histogram(dz, symmetric=True),
                "dead": _dead(act, z).tolist(), "saturated": _saturated(act, a).tolist(),
                "grad_rms": _finite(np.sqrt(np.mean(dz.astype(np.float64) ** 2)))}
        if isinstance(nonlinearity, nn.PReLU):  # the learned slopes a of a·z for z < 0
            view["slopes"] = _rounded(nonlinearity.weight.data)
        return view

    def _warp(self, index: int) -> dict:
        """The plane as hidden layer ``index`` (2 units) sees it: grid lines and training points
        mapped through the layers up to its activation (ConvNetJS's view)."""
        x0, x1, y0, y1 = self.split.bounds
        t = np.linspace(0, 1, WARP_POINTS)
        lines = []
        for v in np.linspace(0, 1, WARP_LINES):
            lines.append(np.stack([x0 + t * (x1 - x0), np.full_like(t, y0 + v * (y1 - y0))], 1))
            lines.append(np.stack([np.full_like(t, x0 + v * (x1 - x0)), y0 + t * (y1 - y0)], 1))
        lines = np.concatenate(lines).astype(np.float32)
        with no_grad():
            _, line_layers = self.trace(lines)
            _, point_layers = self.trace(self.split.x_train)
        return {"layer": index, "lines": b64(line_layers[index]["a"].astype(np.float32)),
                "points": b64(point_layers[index]["a"].astype(np.float32)),
                "line_count": 2 * WARP_LINES, "line_points": WARP_POINTS}

    def probe(self, x: float, y: float) -> dict:
        """The hover read-out at point (x, y): for every hidden unit w·x + b, its activation and
        ∂C0/∂z, with C0 taken against the label of the nearest training point."""
        point = np.array([[x, y]], dtype=np.float32)
        nearest = int(np.argmin(((self.split.x_train - point) ** 2).sum(axis=1)))
        label = self.split.y_train[nearest:nearest + 1]
        out, layers = self.trace(point, label)
        return {"type": "probe", "x": x, "y": y, "label": int(label[0]),
                "probabilities": np.round(self.probabilities(out)[0], 4).tolist(),
                "layers": [{k: np.round(layer[k][0].astype(np.float64), 5).tolist() for k in ("u", "z", "a", "dz")}
                           for layer in layers]}


def _finite(value):
    """JSON has no NaN or infinity: those become None."""
    value = float(value)
    return value if math.isfinite(value) else None


def _rounded(array: np.ndarray, decimals: int = 5) -> list:
    """``array`` as nested lists of numbers rounded to ``decimals``; NaN and infinity become None."""
    values = np.round(np.asarray(array, dtype=np.float64), decimals)
    return np.where(np.isfinite(values), values, None).tolist()


def _histogram(values: np.ndarray, symmetric: bool = False) -> dict:
    """HIST_BINS counts of the nonzero finite values over their 1st to 99th percentile (the rarer
    outliers land in the end bins; ``symmetric``: over ±the 95th percentile of |value|, so the
    balance of signs shows and heavy tails do not squash the bulk), and the share of values that are exactly 0 (ReLU's inactive units:
    a spike that would flatten every other bar)."""
    flat = values.ravel()
    finite = flat[np.isfinite(flat)]
    nonzero = np.sort(finite[finite != 0])
    zeros = round(1.0 - nonzero.size / finite.size, 4) if finite.size else 0.0
    if nonzero.size == 0:
        return {"low": 0.0, "high": 0.0, "counts": [0] * HIST_BINS, "zeros": zeros}
    if symmetric:
        high = float(np.sort(np.abs(nonzero))[int(0.95 * (nonzero.size - 1))])
        low = -high
    else:
        low, high = float(nonzero[int(0.01 * (nonzero.size - 1))]), float(nonzero[int(0.99 * (nonzero.size - 1))])
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    bins = np.clip(((nonzero - low) * (HIST_BINS / (high - low))).astype(np.int64), 0, HIST_BINS - 1)
    return {"low": low, "high": high, "counts": np.bincount(bins, minlength=HIST_BINS).tolist(), "zeros": zeros}


def _dead(activation: str, z: np.ndarray) -> np.ndarray:
    """Dead units: ReLU-like units whose input z ≤ 0 on every training point (their gradient is
    0 everywhere for ReLU; only the small negative slope is left for the leaky kinds)."""
    if activation in ("tanh", "sigmoid"):
        return np.zeros(z.shape[1], dtype=bool)
    return (z <= 0).all(axis=0)


def _saturated(activation: str, a: np.ndarray) -> np.ndarray:
    """Saturated units: sigmoid outside (0.02, 0.98) or tanh outside (−0.96, 0.96) on at least
    90% of the training points (their derivative is below ~0.04 there)."""
    if activation == "sigmoid":
        return ((a < 0.02) | (a > 0.98)).mean(axis=0) >= 0.9
    if activation == "tanh":
        return (np.abs(a) > 0.96).mean(axis=0) >= 0.9
    return np.zeros(a.shape[1], dtype=bool)
