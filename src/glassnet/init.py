"""Weight initializers: each fills a tensor in place and returns it.

Fan-in/fan-out for a weight of shape (out, in, *kernel) are
``in·∏kernel`` and ``out·∏kernel`` (as in PyTorch). Every random function draws
from ``generator`` (default: the global generator of :mod:`glassnet.random`),
in float64, then stores the values in the tensor's own dtype.

The curriculum's schemes, and why they differ (n_in = fan-in):

=================  ===========================  ================================
scheme             weights                      why
=================  ===========================  ================================
large              N(0, 1)                      the book's first network; Σ of
                                                n_in terms has std √n_in, so
                                                sigmoid units saturate
book               N(0, 1/n_in)                 the book's default: z has std ≈ 1
small              0.01·N(0, 1)                 cs231n; activations shrink layer
                                                by layer in a deep net
zeros / constant   c                            every unit of a layer computes
                                                the same thing: symmetry never
                                                breaks
xavier_*           Var = gain²·2/(n_in+n_out)   keeps the variance of activations
                                                and gradients (tanh, linear)
he_* (kaiming_*)   Var = gain²/n_in             ReLU zeroes half of its inputs:
                                                gain √2 makes up for it
=================  ===========================  ================================

:func:`apply` applies one of these by name to every layer of a model.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .random import get_generator
from .tensor import Tensor


def _fill(tensor: Tensor, values) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"initializers fill a glassnet Tensor or Parameter in place, got {type(tensor).__name__}")
    tensor.data[...] = values
    return tensor


def fan_in_and_fan_out(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    if len(shape) < 2:
        raise ValueError(f"fan in/out needs a weight with at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(shape: tuple, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return fan_in if mode == "fan_in" else fan_out


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's values).

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: √2;
    leaky_relu: √(2/(1+a²)) with slope a = ``param`` (default 0.01); selu: 3/4.
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Number) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r} (known: linear, conv1d/2d/3d, "
                     f"conv_transpose1d/2d/3d, sigmoid, tanh, relu, leaky_relu, selu)")


# ------------------------------------------------------------ constant fills
def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _fill(tensor, 1)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(tensor, val)


# ------------------------------------------------------------ random fills
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with U(a, b)."""
    return _fill(tensor, get_generator(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with N(mean, std²). With the defaults this is the book's "large"
    initialization N(0, 1)."""
    return _fill(tensor, get_generator(generator).standard_normal(tensor.shape) * std + mean)


def normal_fan_in_(tensor: Tensor, generator=None) -> Tensor:
    """The book's default: N(0, 1/n_in), i.e. std 1/√n_in (``randn(y, x)/sqrt(x)``).

    A unit then sums n_in terms of variance 1/n_in, so z has variance ≈ 1 for
    inputs of unit scale and sigmoid neurons start out of saturation."""
    fan_in, _ = fan_in_and_fan_out(tensor.shape)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in), generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot: U(−a, a), a = gain·√(6/(n_in+n_out)) (std gain·√(2/(n_in+n_out)))."""
    fan_in, fan_out = fan_in_and_fan_out(tensor.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot: N(0, std²), std = gain·√(2/(n_in+n_out))."""
    fan_in, fan_out = fan_in_and_fan_out(tensor.shape)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He: U(−b, b), b = gain·√(3/fan), gain = calculate_gain(nonlinearity, a)
    (std gain/√fan; fan = n_in or n_out by ``mode``)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor.shape, mode))
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He: N(0, std²), std = gain/√fan, gain = calculate_gain(nonlinearity, a)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor.shape, mode))
    return normal_(tensor, 0.0, std, generator)


# ----------------------------------------------------- a scheme for a model
def _scheme_fillers(scheme: str, nonlinearity, param, value, generator):
    """(weight filler, bias filler) for ``scheme``."""
    gain = 1.0 if nonlinearity is None else calculate_gain(nonlinearity, param)
    he_nonlinearity = "relu" if nonlinearity is None else nonlinearity
    he_a = 0.0 if param is None else param
    zero = zeros_
    unit_normal = lambda t: normal_(t, generator=generator)  # noqa: E731
    fillers = {
        "large": (unit_normal, unit_normal),
        "book": (lambda t: normal_fan_in_(t, generator=generator), unit_normal),
        "small": (lambda t: normal_(t, 0.0, 0.01, generator=generator), zero),
        "zeros": (zero, zero),
        "constant": (lambda t: constant_(t, value), zero),
        "xavier_uniform": (lambda t: xavier_uniform_(t, gain, generator=generator), zero),
        "xavier_normal": (lambda t: xavier_normal_(t, gain, generator=generator), zero),
        "he_uniform": (lambda t: kaiming_uniform_(t, he_a, "fan_in", he_nonlinearity, generator=generator), zero),
        "he_normal": (lambda t: kaiming_normal_(t, he_a, "fan_in", he_nonlinearity, generator=generator), zero),
    }
    fillers["kaiming_uniform"], fillers["kaiming_normal"] = fillers["he_uniform"], fillers["he_normal"]
    if scheme not in fillers:
        raise ValueError(f"init.apply: unknown scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    return fillers[scheme]


SCHEMES = ("large", "book", "small", "zeros", "constant", "xavier_uniform", "xavier_normal",
           "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal")


def apply(model, scheme: str, nonlinearity: str | None = None, param=None, value: float = 0.0,
          generator=None):
    """Initialize every layer of ``model`` (a Module) by the named ``scheme``; returns the model.

    Layers are the modules whose own ``weight`` has ≥ 2 dimensions (Linear,
    Conv, ...); normalization layers (1-D weights) keep their γ = 1, β = 0.
    Weights follow the table of this module. Biases are 0, except for the book's
    schemes "large" and "book", which draw biases from N(0, 1) as network2.py does.

    ``nonlinearity`` (and ``param``, the leaky ReLU slope) sets the gain:
    xavier_* uses calculate_gain(nonlinearity) (gain 1 when not given, as Glorot
    and PyTorch do); he_*/kaiming_* use fan_in and default to "relu" (gain √2).
    ``value`` is the weight of the "constant" scheme. Draws go module by module
    in ``named_modules()`` order, weight before bias, from ``generator``.
    """
    weight_fill, bias_fill = _scheme_fillers(scheme, nonlinearity, param, value, generator)
    for _, module in model.named_modules():
        weight = module._parameters.get("weight")
        if weight is None or weight.ndim < 2:
            continue
        weight_fill(weight)
        bias = module._parameters.get("bias")
        if bias is not None:
            bias_fill(bias)
    return model
