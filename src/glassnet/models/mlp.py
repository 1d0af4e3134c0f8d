"""``mlp("784-100-10")``: a fully connected network in one line."""

from __future__ import annotations

from .. import init as initializers
from .. import nn

ACTIVATIONS = {
    "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU,
    "prelu": nn.PReLU, "rrelu": nn.RReLU, "identity": nn.Identity,
}
# the nonlinearity whose gain the initializers use, per activation
_GAIN_OF = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "leaky_relu": "leaky_relu",
            "prelu": "leaky_relu", "rrelu": "leaky_relu", "identity": "linear"}


def parse_sizes(sizes) -> list[int]:
    """``"784-100-10"`` or ``[784, 100, 10]`` -> ``[784, 100, 10]`` (at least 2 positive sizes)."""
    if isinstance(sizes, str):
        try:
            sizes = [int(s) for s in sizes.replace(",", "-").split("-")]
        except ValueError:
            raise ValueError(f"mlp: sizes must look like '784-100-10', got {sizes!r}") from None
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"mlp: need at least an input and an output size, all positive, got {sizes}")
    return sizes


def mlp(sizes="784-100-10", activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False,
        init: str = "he_normal", input_dropout: float = 0.0, dtype=None, generator=None) -> nn.Sequential:
    """A multilayer perceptron that maps (N, sizes[0]) inputs to (N, sizes[-1]) logits.

    Each hidden layer of width h is ``Linear → [BatchNorm1d(h)] → activation →
    [Dropout(dropout)]``; the last layer is a plain ``Linear`` (pair it with a
    fused loss such as ``nn.CrossEntropyLoss``). With batch norm the hidden
    Linear layers have no bias (β does its job). ``input_dropout`` drops input
    features. ``init`` is a scheme of :func:`glassnet.init.apply` ("he_normal",
    "xavier_uniform", "book", "large", …, or "default" to keep Linear's own),
    with the gain of ``activation``.
    """
    sizes = parse_sizes(sizes)
    if activation not in ACTIVATIONS:
        raise ValueError(f"mlp: unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    layers = [nn.Dropout(input_dropout)] if input_dropout else []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        layers.append(nn.Linear(n_in, n_out, bias=not batch_norm, dtype=dtype, generator=generator))
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out, dtype=dtype))
        layers.append(ACTIVATIONS[activation]())
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-2], sizes[-1], dtype=dtype, generator=generator))
    model = nn.Sequential(*layers)
    if init != "default":
        initializers.apply(model, init, nonlinearity=_GAIN_OF[activation], generator=generator)
    return model
