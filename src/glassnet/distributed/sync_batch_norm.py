"""Batch norm over the global mini-batch of a data-parallel run (``nn.SyncBatchNorm``).

Process r holds n_r of the global batch's examples; per channel that is
m_r values of the m = Σ m_r the one-process layer would normalise over.
"""

from __future__ import annotations

import numpy as np

from ..functional.normalization import _affine_grads
from ..tensor import Tensor


def sync_batch_norm(x: Tensor, running_mean: np.ndarray | None, running_var: np.ndarray | None,
                    weight: Tensor | None, bias: Tensor | None, world, momentum: float = 0.1,
                    eps: float = 1e-5) -> Tensor:
    """Training-mode batch norm y = γ·x̂ + β, x̂ = (x − μ)/√(σ² + ε), with μ and σ²
    of channel c (axis 1) taken over the values of every process in ``world``.

    x: (n_r, C, *) this process's rows; running_mean, running_var, γ, β: (C,).

    Forward, one Allgather of (m_r, μ_r, M2_r) per process (M2_r = Σ (x − μ_r)²
    over its values), combined in rank order as in Chan, Golub & LeVeque (1979):

        m = Σ m_r,   μ = Σ m_r·μ_r / m,   σ² = Σ (M2_r + m_r·(μ_r − μ)²) / m.

    The running statistics get the one-process update (unbiased σ²·m/(m − 1)).
    Backward, one Allreduce of (Σ g, Σ g·x̂) over every process, then

        dx = (γ/√(σ²+ε))·(g − Σ g/m − x̂·Σ g·x̂/m),   dγ = Σ_r g·x̂,   dβ = Σ_r g,

    dγ and dβ summed over this process's values only: the gradient Allreduce of
    data parallel adds the other processes' shares. ``g`` must be the gradient
    of the global loss (data parallel weights each process's loss by n_r/n).
    """
    xd = x.data
    n, c = xd.shape[:2]
    x3 = xd.reshape(n, c, -1)
    m_local = x3.shape[0] * x3.shape[2]
    mean_local = np.einsum("ncl->c", x3) / max(m_local, 1)
    centered = x3 - mean_local[:, None]
    m2_local = np.einsum("ncl,ncl->c", centered, centered)
    stats = world.allgather(np.concatenate([[m_local], mean_local, m2_local]).astype(np.float64),
                            "SyncBatchNorm's statistics")
    counts, means, m2s = stats[:, 0], stats[:, 1:c + 1], stats[:, c + 1:]
    m = counts.sum()
    if m < 2:
        raise ValueError(f"SyncBatchNorm: training needs more than 1 value per channel over all processes, "
                         f"got {int(m)}")
    mean = (counts[:, None] * means).sum(axis=0) / m
    var = (m2s + counts[:, None] * (means - mean) ** 2).sum(axis=0) / m
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += momentum * mean.astype(running_mean.dtype)
    if running_var is not None:
        running_var *= 1 - momentum
        running_var += (momentum * m / (m - 1) * var).astype(running_var.dtype)

    inv_std = (1 / np.sqrt(var + eps)).astype(xd.dtype)
    centered += (mean_local - mean.astype(xd.dtype))[:, None]  # now x − μ with the global μ
    gamma = None if weight is None else weight.data
    scale = inv_std if gamma is None else gamma * inv_std
    out = centered * scale[:, None]
    if bias is not None:
        out += bias.data[:, None]

    def backward(g):
        g3 = g.reshape(n, c, -1)
        g_sum = np.einsum("ncl->c", g3)
        gx_sum = np.einsum("ncl,ncl->c", g3, centered) * inv_std
        total = world.allreduce_sum_(np.concatenate([g_sum, gx_sum]), "SyncBatchNorm's backward pass")
        all_g, all_gx = total[:c], total[c:]
        gx = None
        if x.requires_grad:
            gx = centered * (-inv_std * all_gx / m).astype(xd.dtype)[:, None]
            gx += g3
            gx -= (all_g / m).astype(xd.dtype)[:, None]
            gx *= scale[:, None]
            gx = gx.reshape(xd.shape)
        return _affine_grads(gx, weight, bias, g_sum, gx_sum)  # this process's Σg, Σg·x̂

    parents = tuple(t for t in (x, weight, bias) if t is not None)
    return Tensor.from_op(out.reshape(xd.shape), parents, backward, "sync_batch_norm")
