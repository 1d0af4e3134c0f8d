"""Tensor: an ndarray that remembers how it was made, and reverse-mode autograd.

Each operation returns a new ``Tensor`` holding its result, its parents and a
closure ``backward(g) -> (grad for each parent)`` that maps the gradient of the
loss with respect to the result, ``g = dL/d out`` (same shape as ``out``), to the
gradients with respect to the parents (the chain rule, one gate at a time:
add distributes ``g``, multiply swaps its inputs, max routes ``g`` to the winner).

``loss.backward()`` visits the graph in reverse topological order, sums the
gradients a node receives from every use, and stores the result in ``.grad`` of
the leaves (tensors created by the user with ``requires_grad=True``, such as
parameters). Leaf gradients accumulate across calls, as in PyTorch; call
``zero_grad`` between steps. After a backward pass the graph's closures are
freed: a second ``backward()`` through the same graph raises a RuntimeError
unless the first call passed ``retain_graph=True``. Building a fresh graph
(running the forward pass again) is always fine.

``.grad`` is a plain ``numpy.ndarray`` with the leaf's shape and dtype.

In-place changes and the version counter (as PyTorch's): every tensor has a
``_version``, an integer that each in-place change of its values increases.
Tensors that view the same memory (``reshape``, ``transpose``, basic indexing,
``detach``) share one counter. A recorded op remembers the versions of the
tensors its backward closure reads (its inputs, and its output for ops such as
``exp`` whose gradient is computed from the result); ``backward()`` raises a
RuntimeError naming the op and the versions when one of them has changed since,
instead of returning a silently wrong gradient.

What counts as an in-place change: assigning to ``.data`` (which includes
``t.data *= 10`` and ``p.data -= lr * g``: Python's augmented assignment calls the
setter), an optimizer's ``step()``, and in-place Tensor methods, which call
``_bump_version()``. Writes into the ndarray behind the Tensor's back
(``t.data[0] = 1``, ``np.add(a, 1, out=t.data)``, a kept reference to
``t.data``) are not seen: such code must call ``t._bump_version()`` itself.
(Write-protecting the arrays a graph saves would catch those too, but it turns
every legitimate update of a parameter that is still referenced by a freed or
retained graph into an error at the write, far from its cause; the guarded
setter costs nothing measurable per op.) An op declares what it reads with
``from_op(..., reads_inputs=, reads_output=)``; the default, both, is safe:
at worst it reports a change that this op's gradient would not have needed.
"""

from __future__ import annotations

import collections
import contextlib
import numbers
import operator
from typing import Any

import numpy as np

from . import backend

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether operations currently record the graph."""
    return _grad_enabled


@contextlib.contextmanager
def _set_grad_enabled(mode: bool):
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, mode
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """Context manager (and decorator) in which no graph is recorded."""
    return _set_grad_enabled(False)


def enable_grad():
    """Context manager that turns graph recording back on."""
    return _set_grad_enabled(True)


def _graph_freed(_g):
    raise RuntimeError(
        "backward() went through a graph a second time, but its intermediate "
        "results were freed after the first call. Run the forward pass again, or "
        "pass retain_graph=True to the first backward()."
    )


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, so the
    result has ``shape`` (the gradient of a broadcast is a sum)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


class Tensor:
    """An n-dimensional array with optional gradient tracking.

    ``Tensor(data, requires_grad=False, dtype=None)``: floating ndarrays keep
    their dtype; Python numbers and lists become the default dtype (float32).
    """

    __slots__ = ("_data", "grad", "requires_grad", "_parents", "_backward", "_op", "_version_counter",
                 "_input_versions", "_output_version", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor
    _data: np.ndarray
    grad: np.ndarray | None
    requires_grad: bool
    _parents: tuple
    _backward: Any
    _op: str
    _version_counter: list
    _input_versions: list | None
    _output_version: int | None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data._data
        self._data = backend.as_array(data, dtype)
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require gradients, got dtype {self._data.dtype}")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents = ()
        self._backward = None
        self._op = ""
        self._version_counter = [0]
        self._input_versions = self._output_version = None

    # ------------------------------------------------------- in-place changes
    def _set_data(self, value: np.ndarray) -> None:
        self._data = value
        self._version_counter[0] += 1

    # (a C getter: reading ``.data`` stays as cheap as reading a plain attribute)
    data = property(operator.attrgetter("_data"), _set_data,
                    doc="The values, an ndarray. Assigning to it counts as an in-place change (see ``_version``).")

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's values (or a view sharing them) went through."""
        return self._version_counter[0]

    def _bump_version(self) -> None:
        """Record an in-place change of the values: call after writing into ``self.data``."""
        self._version_counter[0] += 1

    def _check_versions(self) -> None:
        """Raise if a tensor this op's backward reads was changed in place since the forward pass."""
        if self._input_versions is not None:
            for parent, saved in zip(self._parents, self._input_versions):
                if parent._version_counter[0] != saved:
                    self._modified(parent, saved, "an input")
        if self._output_version is not None and self._version_counter[0] != self._output_version:
            self._modified(self, self._output_version, "the output")

    def _modified(self, tensor: "Tensor", saved: int, role: str):
        raise RuntimeError(
            f"one of the tensors needed for gradient computation has been modified by an in-place operation: "
            f"{role} of {self._op or 'an op'!r}, of shape {tensor.shape} and dtype {tensor.dtype}, is at version "
            f"{tensor._version_counter[0]}; expected version {saved}. Change values after backward() (as "
            f"optimizer.step() does), or change a copy.")

    # ------------------------------------------------------------------ graph
    @classmethod
    def from_op(cls, data: np.ndarray, parents: tuple, backward, op: str, reads_inputs: bool = True,
                reads_output: bool = True, view: bool = False) -> "Tensor":
        """The output of an op, linked into the graph: the extension point every
        op of glassnet is written with, and yours can be.

        An op computes its result from the parents' ndarrays (``.data``) and hands
        it over with the closure that differentiates it. The graph is recorded
        only when a parent requires a gradient and recording is on (not under
        :func:`no_grad`).

        Args:
            data: the result, an ndarray computed from the parents' ``.data``.
            parents: the input Tensors the result depends on, a tuple.
            backward: ``backward(g) -> tuple``, one entry per parent in order:
                given ``g = dL/d(out)`` (an ndarray of ``data``'s shape) it returns
                ``dL/d(parent)`` (an ndarray of that parent's shape; ``unbroadcast``
                sums a broadcast gradient back), or None for a parent that gets no
                gradient (an integer index, say).
            op: a short name of the op, shown by ``repr`` and graph views.
            reads_inputs, reads_output: whether ``backward`` uses the values of
                the parents / of the result; their versions are then checked at
                backward time, so an in-place change in between raises instead of
                giving a wrong gradient. The default, both, is always safe.
            view: the result may share memory with ``parents[0]`` (then the two
                share one version counter).

        Examples:
            The cube, y = x³ with dy/dx = 3x², checked against finite differences:

            >>> import numpy as np
            >>> import glassnet
            >>> from glassnet import Tensor
            >>> def cube(x: Tensor) -> Tensor:
            ...     # y = x³ elementwise, so dL/dx = g·3x²
            ...     xd = x.data
            ...     return Tensor.from_op(xd ** 3, (x,), lambda g: (g * 3 * xd ** 2,), "cube")
            >>> x = glassnet.tensor([1.0, -2.0], requires_grad=True)
            >>> cube(x).sum().backward()
            >>> x.grad
            array([ 3., 12.], dtype=float32)
            >>> report = glassnet.gradcheck(cube, [np.random.default_rng(0).standard_normal(4)])
            >>> report.max_rel_error < 1e-7
            True
        """
        out = cls.__new__(cls)
        out._data = data
        out.grad = None
        out._op = op
        counter = out._version_counter = parents[0]._version_counter if view and np.may_share_memory(
            data, parents[0]._data) else [0]
        if _grad_enabled and any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._parents = parents
            out._backward = backward
            out._input_versions = [p._version_counter[0] for p in parents] if reads_inputs else None
            out._output_version = counter[0] if reads_output else None
        else:
            out.requires_grad = False
            out._parents = ()
            out._backward = None
            out._input_versions = out._output_version = None
        return out

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that
        requires a gradient. ``grad`` defaults to 1 for a one-element tensor."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad "
                               "(no input had requires_grad=True, or it was made under no_grad())")
        if grad is None:
            if self._data.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a one-element tensor, "
                                   f"got shape {self._data.shape}; pass grad= of that shape")
            grad = np.ones_like(self._data)
        else:
            grad = np.array(grad._data if isinstance(grad, Tensor) else grad, dtype=self._data.dtype)  # a copy
            if grad.shape != self._data.shape:
                raise ValueError(f"backward(): grad has shape {grad.shape}, tensor has shape {self._data.shape}")

        order = _topological_order(self)
        grads = {id(self): grad}
        handed = set()  # arrays (by owner) already stored as some leaf's .grad
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._backward is None:  # a leaf
                owner = g if g.base is None else g.base
                if g.dtype != node._data.dtype or not g.flags.writeable or id(owner) in handed:
                    g = owner = g.astype(node._data.dtype)  # a fresh, writable array
                handed.add(id(owner))  # so two leaves never share one gradient array
                node.grad = g if node.grad is None else node.grad + g
                continue
            if node._input_versions is not None or node._output_version is not None:
                node._check_versions()
            parent_grads = node._backward(g)
            for parent, pg in zip(node._parents, parent_grads):
                if pg is None or not parent.requires_grad:
                    continue
                key = id(parent)
                previous = grads.get(key)
                grads[key] = pg if previous is None else previous + pg
            if not retain_graph:
                node._backward = _graph_freed
                node._parents = ()

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (shares memory and the version counter, no gradient)."""
        out = Tensor(self._data)
        out._version_counter = self._version_counter
        return out

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and self._data.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require gradients, got dtype {self._data.dtype}")
        self.requires_grad = flag
        return self

    # -------------------------------------------------------------- plumbing
    def numpy(self) -> np.ndarray:
        return self._data

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {self._data.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None):
        """The shape, as PyTorch's ``x.size()``; ``x.size(0)`` is the length of axis 0."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    def dim(self) -> int:
        """The number of axes (``ndim``)."""
        return self.data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    def __len__(self) -> int:
        return len(self._data)

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def astype(self, dtype) -> "Tensor":
        """A copy in another dtype; the gradient is cast back."""
        source = self._data.dtype
        return Tensor.from_op(self._data.astype(dtype), (self,), lambda g: (g.astype(source),), "astype",
                               reads_inputs=False, reads_output=False)

    def to(self, *args, dtype=None, device=None) -> "Tensor":
        """PyTorch's ``x.to(dtype)`` / ``x.to("cpu")``: a cast (see :meth:`astype`),
        or ``self`` when nothing changes. glassnet computes on the CPU only."""
        for arg in args:
            if isinstance(arg, str) and not _is_dtype_name(arg):
                device = arg
            else:
                dtype = arg
        check_device(device, "Tensor.to")
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self
        return self.astype(dtype)

    def clone(self) -> "Tensor":
        """A copy of the data that stays in the graph (the gradient passes through)."""
        return Tensor.from_op(self._data.copy(), (self,), lambda g: (g,), "clone", reads_inputs=False,
                               reads_output=False)

    def float(self) -> "Tensor":
        return self.astype(np.float32)

    def double(self) -> "Tensor":
        return self.astype(np.float64)

    def __repr__(self) -> str:
        body = np.array2string(self._data, precision=4, threshold=20, separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self._data.dtype != backend.default_dtype():
            extra = f", dtype={self._data.dtype}" + extra
        return f"tensor({body}{extra})"

    # ---------------------------------------------------- elementwise binary
    def _coerce(self, other) -> "Tensor":
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number):
            return Tensor(np.asarray(other, dtype=self._data.dtype))
        return Tensor(other)

    def __add__(self, other):
        other = self._coerce(other)
        a_shape, b_shape = self._data.shape, other._data.shape
        return Tensor.from_op(self._data + other._data, (self, other),
                               lambda g: (unbroadcast(g, a_shape), unbroadcast(g, b_shape)), "add",
                               reads_inputs=False, reads_output=False)

    __radd__ = __add__

    def __sub__(self, other):
        other = self._coerce(other)
        a_shape, b_shape = self._data.shape, other._data.shape
        return Tensor.from_op(self._data - other._data, (self, other),
                               lambda g: (unbroadcast(g, a_shape), unbroadcast(-g, b_shape)), "sub",
                               reads_inputs=False, reads_output=False)

    def __rsub__(self, other):
        return self._coerce(other) - self

    def __mul__(self, other):
        other = self._coerce(other)
        a, b = self._data, other._data
        return Tensor.from_op(a * b, (self, other),
                               lambda g: (unbroadcast(g * b, a.shape) if self.requires_grad else None,
                                          unbroadcast(g * a, b.shape) if other.requires_grad else None),
                               "mul", reads_output=False)

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = self._coerce(other)
        a, b = self._data, other._data
        return Tensor.from_op(a / b, (self, other),
                               lambda g: (unbroadcast(g / b, a.shape) if self.requires_grad else None,
                                          unbroadcast(-g * a / (b * b), b.shape) if other.requires_grad else None),
                               "div", reads_output=False)

    def __rtruediv__(self, other):
        return self._coerce(other) / self

    def __neg__(self):
        return Tensor.from_op(-self._data, (self,), lambda g: (-g,), "neg", reads_inputs=False, reads_output=False)

    def __pow__(self, exponent):
        """y = x**p: dy/dx = p·x^(p−1) (0 where p = 0: x⁰ = 1 is constant, also at x = 0, as in PyTorch);
        for a tensor exponent also dy/dp = y·ln x. An exponent that broadcasts with x gets x's gradient
        summed back to x's shape."""
        tensor_exponent = isinstance(exponent, Tensor)
        x = self._data
        p = exponent._data if tensor_exponent else exponent if isinstance(exponent, numbers.Number) \
            else np.asarray(exponent)
        y = x ** p

        def backward(g):
            gx = gp = None
            if self.requires_grad:
                with np.errstate(divide="ignore", invalid="ignore"):
                    local = p * x ** (p - 1)
                if np.any(p == 0):
                    local = np.where(p == 0, 0, local)
                gx = unbroadcast(np.asarray(g * local, dtype=x.dtype), x.shape)
            if tensor_exponent and exponent.requires_grad:
                gp = unbroadcast(g * y * np.log(x), p.shape)
            return (gx, gp) if tensor_exponent else (gx,)

        return Tensor.from_op(np.asarray(y), (self, exponent) if tensor_exponent else (self,), backward, "pow",
                               reads_output=tensor_exponent)

    def __rpow__(self, base):
        """y = b**x for a constant b (``2 ** x``): dy/dx = y·ln b."""
        return self._coerce(base) ** self

    def __matmul__(self, other):
        """C = A @ B: dA = g @ Bᵀ, dB = Aᵀ @ g (batched over leading axes)."""
        other = self._coerce(other)
        a, b = self._data, other._data
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs tensors with at least one dimension")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                             f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")

        def backward(g):
            a2 = a[None, :] if a.ndim == 1 else a
            b2 = b[:, None] if b.ndim == 1 else b
            g2 = g
            if b.ndim == 1:  # first, so that vector @ vector (g is 0-d) works
                g2 = np.expand_dims(g2, -1)
            if a.ndim == 1:
                g2 = np.expand_dims(g2, -2)
            ga = gb = None
            if self.requires_grad:
                ga = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
            if other.requires_grad:
                gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
            return ga, gb

        return Tensor.from_op(a @ b, (self, other), backward, "matmul", reads_output=False)

    def __rmatmul__(self, other):
        return self._coerce(other) @ self

    # ------------------------------------------------------- in-place updates
    # PyTorch's ``p -= lr * p.grad`` (under no_grad), ``x += 1``, ``p.add_(g, alpha=-lr)``, ``x.zero_()``:
    # the values change in place (views see it) and the version counter moves, so a graph
    # that saved the old values refuses to run backward instead of giving a wrong gradient.
    def _in_place(self, op: str, write, other=None) -> "Tensor":
        """Run ``write(self.data)``, which changes the values in place, and count the change."""
        other_needs_grad = isinstance(other, Tensor) and other.requires_grad
        if _grad_enabled and (self.requires_grad or other_needs_grad):
            what = "a tensor that requires grad" if self.requires_grad else "a tensor, with a value that requires grad,"
            raise RuntimeError(
                f"in-place {op} on {what} while the graph is recorded: wrap parameter updates in "
                f"`with glassnet.no_grad():` (as PyTorch requires for leaves), or write `x = x {_SYMBOL.get(op, op)} y` "
                f"to record the op (glassnet's graph links tensors, so it cannot rewire a changed one)")
        write(self._data)
        self._bump_version()
        return self

    def _ufunc_(self, ufunc, other, op: str) -> "Tensor":
        return self._in_place(op, lambda a: ufunc(a, _raw(other), out=a, casting="same_kind"), other)

    def __iadd__(self, other):
        return self._ufunc_(np.add, other, "add")

    def __isub__(self, other):
        return self._ufunc_(np.subtract, other, "sub")

    def __imul__(self, other):
        return self._ufunc_(np.multiply, other, "mul")

    def __itruediv__(self, other):
        return self._ufunc_(np.true_divide, other, "div")

    def add_(self, other, alpha=1):
        """self ← self + alpha·other, in place."""
        return self._ufunc_(np.add, other if alpha == 1 else _raw(other) * alpha, "add")

    def sub_(self, other, alpha=1):
        """self ← self − alpha·other, in place."""
        return self._ufunc_(np.subtract, other if alpha == 1 else _raw(other) * alpha, "sub")

    def mul_(self, other):
        return self._ufunc_(np.multiply, other, "mul")

    def div_(self, other):
        return self._ufunc_(np.true_divide, other, "div")

    def copy_(self, source):
        """self ← source (broadcast to self's shape, cast to its dtype), in place."""
        return self._in_place("copy", lambda a: np.copyto(a, _raw(source), casting="unsafe"), source)

    def fill_(self, value):
        return self.copy_(value)

    def zero_(self):
        return self.copy_(0)

    def clamp_(self, min=None, max=None):  # noqa: A002 (PyTorch's names)
        return self._in_place("clamp", lambda a: np.clip(a, min, max, out=a))

    # ----------------------------------------------------------- comparisons
    # Comparisons give boolean tensors outside the graph.
    def __lt__(self, other):
        return Tensor(self._data < _raw(other))

    def __le__(self, other):
        return Tensor(self._data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self._data > _raw(other))

    def __ge__(self, other):
        return Tensor(self._data >= _raw(other))

    def eq(self, other):
        return Tensor(self._data == _raw(other))

    __hash__ = object.__hash__

    # -------------------------------------------------------- elementwise unary
    def exp(self):
        """y = eˣ, dy/dx = y."""
        y = np.exp(self._data)
        return Tensor.from_op(y, (self,), lambda g: (g * y,), "exp", reads_inputs=False)

    def log(self):
        """y = ln x, dy/dx = 1/x."""
        x = self._data
        return Tensor.from_op(np.log(x), (self,), lambda g: (g / x,), "log", reads_output=False)

    def sqrt(self):
        """y = √x, dy/dx = 1/(2y)."""
        y = np.sqrt(self._data)
        return Tensor.from_op(y, (self,), lambda g: (g / (2 * y),), "sqrt", reads_inputs=False)

    def abs(self):
        """y = |x|, dy/dx = sign(x) (0 at 0)."""
        x = self._data
        return Tensor.from_op(np.abs(x), (self,), lambda g: (g * np.sign(x),), "abs", reads_output=False)

    def clamp(self, min=None, max=None):  # noqa: A002 (PyTorch's names)
        """PyTorch's spelling of :meth:`clip`: ``x.clamp(min=0)``."""
        return self.clip(min, max)

    def clip(self, low=None, high=None):
        """Clamp into [low, high]; the gradient passes only where x was inside."""
        x = self._data
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return Tensor.from_op(np.clip(x, low, high), (self,), lambda g: (g * inside,), "clip",
                               reads_inputs=False, reads_output=False)

    # ------------------------------------------------------------- reductions
    # ``dim=`` / ``keepdim=`` are PyTorch's names for ``axis=`` / ``keepdims=``.
    def sum(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Sum over ``axis``; the gradient is ``g`` broadcast back to x's shape."""
        axis, keepdims = resolve_axis_args("sum", axis, dim, keepdims, keepdim)
        shape = self._data.shape
        out = self._data.sum(axis=axis, keepdims=keepdims)

        def backward(g):
            if axis is not None and not keepdims:
                g = np.expand_dims(g, _normalize_axes(axis, len(shape)))
            return (np.broadcast_to(g, shape),)

        return Tensor.from_op(np.asarray(out), (self,), backward, "sum", reads_inputs=False, reads_output=False)

    def mean(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Mean over ``axis``: the sum divided by the number of elements averaged."""
        axis, keepdims = resolve_axis_args("mean", axis, dim, keepdims, keepdim)
        count = self._data.size if axis is None else int(np.prod([self._data.shape[i] for i in
                                                                 _normalize_axes(axis, self._data.ndim)]))
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count if count else np.nan)  # empty: NaN, as NumPy

    def max(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Max over ``axis``; the gradient goes to the winning element (split
        evenly between exact ties). With ``dim=`` (PyTorch's form) the result is
        the pair ``(values, indices)``, as ``torch.max(x, dim)``."""
        return self._extreme(np.max, np.argmax, "max", axis, keepdims, dim, keepdim)

    def min(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Min over ``axis``, as :meth:`max`."""
        return self._extreme(np.min, np.argmin, "min", axis, keepdims, dim, keepdim)

    def _extreme(self, reduce, arg, op, axis, keepdims, dim, keepdim):
        pair = dim is not None
        axis, keepdims = resolve_axis_args(op, axis, dim, keepdims, keepdim)
        x = self._data
        out = reduce(x, axis=axis, keepdims=True)

        def backward(g):
            winners = x == out
            ties = winners.sum(axis=axis, keepdims=True, dtype=x.dtype)  # not int64: g keeps x's dtype
            return (winners * (np.reshape(g, out.shape) / ties),)

        result = out if keepdims else (out.reshape(()) if axis is None else np.squeeze(
            out, axis=_normalize_axes(axis, x.ndim)))
        values = Tensor.from_op(np.asarray(result), (self,), backward, op)
        if not pair:
            return values
        return ValuesIndices(values, Tensor(np.asarray(arg(x, axis=axis, keepdims=keepdims))))

    def argmax(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        axis, keepdims = resolve_axis_args("argmax", axis, dim, keepdims, keepdim)
        return Tensor(np.asarray(self._data.argmax(axis=axis, keepdims=keepdims)))

    def argmin(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        axis, keepdims = resolve_axis_args("argmin", axis, dim, keepdims, keepdim)
        return Tensor(np.asarray(self._data.argmin(axis=axis, keepdims=keepdims)))

    # ----------------------------------------------------------- shape views
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        source = self._data.shape
        try:
            out = self._data.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view shape {source} ({self._data.size} elements) as {shape}") from None
        return Tensor.from_op(out, (self,), lambda g: (g.reshape(source),), "reshape",
                               reads_inputs=False, reads_output=False, view=True)

    view = reshape

    def flatten(self, start_dim: int = 0):
        return self.reshape(self._data.shape[:start_dim] + (-1,))

    def unsqueeze(self, dim: int):
        """A new axis of length 1 at ``dim`` (negative counts from the end of the result)."""
        return self.reshape(np.expand_dims(self.data, dim).shape)

    def squeeze(self, dim=None):
        """Drop axes of length 1 (all, or those of ``dim`` that have length 1, as PyTorch)."""
        shape = self.data.shape
        if dim is None:
            return self.reshape(tuple(n for n in shape if n != 1))
        drop = {d for d in _normalize_axes(dim, len(shape)) if shape[d] == 1}
        return self.reshape(tuple(n for i, n in enumerate(shape) if i not in drop))

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(self._data.ndim)))
        inverse = tuple(np.argsort(axes))
        return Tensor.from_op(self._data.transpose(axes), (self,), lambda g: (g.transpose(inverse),), "transpose",
                               reads_inputs=False, reads_output=False, view=True)

    def permute(self, *axes):
        return self.transpose(*axes)

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        """Indexing and slicing; the gradient scatters ``g`` back (adding at
        repeated integer indices)."""
        index = _raw_index(index)
        shape, dtype = self._data.shape, self._data.dtype

        def backward(g):
            full = np.zeros(shape, dtype=dtype)
            np.add.at(full, index, g)
            return (full,)

        return Tensor.from_op(np.asarray(self._data[index]), (self,), backward, "getitem",
                               reads_inputs=False, reads_output=False, view=True)


_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/"}

ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__doc__ = "What ``x.max(dim=d)`` / ``x.min(dim=d)`` return, as PyTorch: the values and their indices."


def resolve_axis_args(op: str, axis, dim, keepdims, keepdim):
    """(axis, keepdims) from NumPy's names or PyTorch's (``dim``, ``keepdim``); not both."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}() got both axis={axis!r} and dim={dim!r}; give one (they mean the same)")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis, bool(keepdims)


def _is_dtype_name(name: str) -> bool:
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True


def check_device(device, what: str) -> None:
    """Accept PyTorch's ``"cpu"`` (glassnet's only device); refuse others with a clear error."""
    if device is not None and str(device).split(":")[0] != "cpu":
        raise ValueError(f"{what}: glassnet computes with NumPy on the CPU only, got device {device!r}")


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _raw_index(index):
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


def _normalize_axes(axis, ndim: int) -> tuple:
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


def _topological_order(root: Tensor, every_node: bool = False) -> list:
    """Nodes that lead to ``root``, parents before children: those that require grad
    (what backward visits), or with ``every_node`` also the inputs that do not (what a
    graph drawing shows)."""
    order, seen = [], set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if (every_node or parent.requires_grad) and id(parent) not in seen:
                stack.append((parent, False))
    return order


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Create a tensor (PyTorch spelling)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _where_branch(value, other) -> Tensor:
    """A branch of :func:`where` as a Tensor: a Python number takes the other
    branch's dtype, as in PyTorch (``where(mask, 0.0, x32)`` is float32)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number):
        return Tensor(value, dtype=other._data.dtype if isinstance(other, Tensor) else None)
    return Tensor(np.asarray(value))


def where(condition, x, y) -> Tensor:
    """Elementwise ``x if condition else y``; the gradient goes to the chosen side."""
    cond = np.asarray(_raw(condition), dtype=bool)
    x, y = _where_branch(x, y), _where_branch(y, x)
    xs, ys = x._data.shape, y._data.shape
    return Tensor.from_op(np.where(cond, x._data, y._data), (x, y),
                           lambda g: (unbroadcast(np.where(cond, g, 0), xs),
                                      unbroadcast(np.where(cond, 0, g), ys)), "where",
                           reads_inputs=False, reads_output=False)


def zeros(*shape, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype=dtype or backend.default_dtype()), requires_grad)


def ones(*shape, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype=dtype or backend.default_dtype()), requires_grad)


def randn(*shape, dtype=None, requires_grad=False, generator=None) -> Tensor:
    from .random import get_generator
    data = get_generator(generator).standard_normal(_shape(shape)).astype(dtype or backend.default_dtype())
    return Tensor(data, requires_grad)


def _shape(shape) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def cat(tensors, axis: int = 0, *, dim=None) -> Tensor:
    """Concatenate along ``axis`` (or ``dim``); the gradient is split back into the pieces."""
    axis, _ = resolve_axis_args("cat", None if dim is not None else axis, dim, False, None)
    tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
    sizes = np.cumsum([t._data.shape[axis] for t in tensors])[:-1]
    return Tensor.from_op(np.concatenate([t._data for t in tensors], axis=axis), tensors,
                           lambda g: tuple(np.split(g, sizes, axis=axis)), "cat",
                           reads_inputs=False, reads_output=False)


def stack(tensors, axis: int = 0, *, dim=None) -> Tensor:
    """Stack along a new ``axis`` (or ``dim``)."""
    axis, _ = resolve_axis_args("stack", None if dim is not None else axis, dim, False, None)
    tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
    return Tensor.from_op(np.stack([t._data for t in tensors], axis=axis), tensors,
                           lambda g: tuple(np.moveaxis(g, axis, 0)), "stack",
                           reads_inputs=False, reads_output=False)
