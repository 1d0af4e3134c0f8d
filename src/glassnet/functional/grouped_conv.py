"""Grouped and depthwise 2-D convolution, on top of ``conv.conv2d``.

With ``groups = G`` the C_in input channels and the C_out filters split into G
groups; group k's filters see only group k's C_in/G channels, so the weight is
(C_out, C_in/G, kh, kw) and the layer costs 1/G of the dense one (ResNeXt,
MobileNet). Output channels k·C_out/G … (k+1)·C_out/G − 1 belong to group k, as
in PyTorch.

- G = 1 is ``conv2d`` itself.
- G = C_in (depthwise: one input channel per group, C_out = m·C_in) runs a
  kernel of its own: a loop over the kh·kw kernel offsets, each one multiply-add
  over the whole (N, C, Ho, Wo) block; never a loop over channels.
- Other G run ``conv2d`` once per group on channel slices and concatenate.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, cat
from .conv import conv2d, output_size, pair


def grouped_conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
                   groups: int = 1) -> Tensor:
    """y = conv2d over ``groups`` channel groups (see the module docstring).

    Shapes: x (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw), bias (C_out,)
    → y (N, C_out, Ho, Wo). Backward: that of conv2d for each group.
    """
    c_in, c_out = x.shape[1], weight.shape[0]
    if groups < 1 or c_in % groups or c_out % groups:
        raise ValueError(f"conv2d: groups={groups} must divide both in_channels ({c_in}) and "
                         f"out_channels ({c_out})")
    if weight.shape[1] * groups != c_in:
        raise ValueError(f"conv2d: weight {weight.shape} expects {weight.shape[1] * groups} input channels "
                         f"with groups={groups}, got input {x.shape}")
    if groups == 1:
        return conv2d(x, weight, bias, stride, padding, dilation)
    if groups == c_in:
        return depthwise_conv2d(x, weight, bias, stride, padding, dilation)
    per_in, per_out = c_in // groups, c_out // groups
    pieces = [conv2d(x[:, k * per_in:(k + 1) * per_in], weight[k * per_out:(k + 1) * per_out],
                     None if bias is None else bias[k * per_out:(k + 1) * per_out], stride, padding, dilation)
              for k in range(groups)]
    return cat(pieces, dim=1)


def depthwise_conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     dilation=1) -> Tensor:
    """Each input channel c convolved with its own m filters:

        y[n, c·m + j, i, l] = b[c·m + j] + Σ_{u,v} w[c·m + j, 0, u, v] · xp[n, c, s·i + d·u, s·l + d·v]

    x (N, C, H, W), weight (C·m, 1, kh, kw) → y (N, C·m, Ho, Wo); xp = x zero-padded.
    Backward, per kernel offset (u, v) with X_uv the input block that offset reads:
    dw[c·m + j, 0, u, v] = Σ_{n,i,l} g[n, c·m + j]·X_uv[n, c];  dX_uv[n, c] += Σ_j g[n, c·m + j]·w[c·m + j, 0, u, v];
    db = Σ_{n,i,l} g.
    """
    xd, wd = x.data, weight.data
    n, c, h, w_in = xd.shape
    m, (kh, kw) = wd.shape[0] // c, wd.shape[2:]
    (sh, sw), (ph, pw), (dh, dw) = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    ho, wo = output_size(h, kh, sh, ph, dh), output_size(w_in, kw, sw, pw, dw)
    if ho < 1 or wo < 1:
        raise ValueError(f"conv2d: input {h}×{w_in} with padding ({ph}, {pw}) is smaller than the kernel "
                         f"{kh}×{kw} (dilation ({dh}, {dw}))")
    xp = np.pad(xd, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else xd
    filters = wd.reshape(c, m, kh, kw)

    def block(u: int, v: int):
        return (slice(None), slice(None), slice(dh * u, dh * u + sh * (ho - 1) + 1, sh),
                slice(dw * v, dw * v + sw * (wo - 1) + 1, sw))

    out = np.zeros((n, c, m, ho, wo), dtype=xd.dtype)
    for u in range(kh):
        for v in range(kw):
            out += xp[block(u, v)][:, :, None] * filters[None, :, :, u, v, None, None]
    out = out.reshape(n, c * m, ho, wo)
    if bias is not None:
        out += bias.data.reshape(1, -1, 1, 1)

    def backward(g):
        g5 = g.reshape(n, c, m, ho, wo)
        dxp = np.zeros_like(xp) if x.requires_grad else None
        dfilters = np.empty_like(filters) if weight.requires_grad else None
        for u in range(kh):
            for v in range(kw):
                window = block(u, v)
                if dfilters is not None:
                    dfilters[:, :, u, v] = np.einsum("ncjhw,nchw->cj", g5, xp[window], optimize=True)
                if dxp is not None:
                    dxp[window] += np.einsum("ncjhw,cj->nchw", g5, filters[:, :, u, v], optimize=True)
        dx = None if dxp is None else dxp[:, :, ph:ph + h, pw:pw + w_in]
        dw_ = None if dfilters is None else dfilters.reshape(wd.shape)
        grads = (dx, dw_)
        if bias is not None:
            grads += (g.sum(axis=(0, 2, 3)) if bias.requires_grad else None,)
        return grads

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.from_op(out, parents, backward, "depthwise_conv2d")
