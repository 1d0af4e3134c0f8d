"""The sentence CNN of Kim (2014), "Convolutional Neural Networks for Sentence
Classification"."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..nn.conv1d import Conv1d
from ..nn.embedding import Embedding
from ..nn.linear import Linear
from ..nn.module import Module
from ..random import get_generator
from ..tensor import Tensor, cat

MODES = ("rand", "static", "non-static", "multichannel")


class TextCNN(Module):
    """Word ids (N, L) → class scores (N, num_classes).

    Each word becomes a d-dimensional vector (one embedding channel, or two);
    for each filter width h (3, 4, 5) ``maps`` filters slide over windows of h
    consecutive words (a conv1d whose input channels are the d·channels vector
    components, the same sum as a 2-D convolution with an h × d kernel over each
    channel), each filter's feature map is reduced to its maximum over time
    (positions), passed through ReLU (max and ReLU commute, so ReLU is applied
    to the (N, maps) maxima instead of the (N, maps, T) maps), and the
    concatenated features go through dropout and a linear layer.

    ``mode`` (Kim's four variants):
      - ``"rand"``: a trained embedding initialised from U(−0.25, 0.25);
      - ``"static"``: pretrained vectors, frozen;
      - ``"non-static"``: pretrained vectors, fine-tuned;
      - ``"multichannel"``: two channels from the same vectors, one frozen
        (``embed_static``, ``requires_grad`` False) and one fine-tuned (``embed``).
    The pretrained modes start from U(−0.25, 0.25) too until
    :meth:`load_vectors` copies the vectors in (the constructor takes no large
    arrays, so ``glassnet.save`` can describe the model).

    Every sentence is padded with ``max(widths) − 1`` padding ids on both ends
    (Kim's convention), so any length L ≥ 1 works; the ``padding_idx`` row is
    zero and never trained.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 300, num_classes: int = 2, mode: str = "rand",
                 widths=(3, 4, 5), maps: int = 100, dropout: float = 0.5, padding_idx: int = 0,
                 generator: np.random.Generator | None = None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"TextCNN: mode must be one of {MODES}, got {mode!r}")
        self.mode, self.widths, self.dropout, self.padding_idx = mode, tuple(widths), dropout, padding_idx
        self.generator = generator
        rng = get_generator(generator)

        def table():
            t = rng.uniform(-0.25, 0.25, (vocab_size, embed_dim))
            t[padding_idx] = 0
            return t

        self.embed = Embedding(vocab_size, embed_dim, padding_idx, _weight=table(), _freeze=(mode == "static"))
        channels = 1
        if mode == "multichannel":
            self.embed_static = Embedding(vocab_size, embed_dim, padding_idx, _weight=table(), _freeze=True)
            channels = 2
        for h in self.widths:
            self.add_module(f"conv{h}", Conv1d(channels * embed_dim, maps, h, generator=generator))
        self.fc = Linear(len(self.widths) * maps, num_classes, generator=generator)

    def load_vectors(self, vectors) -> "TextCNN":
        """Copy pretrained ``vectors`` (V, d) into every embedding channel
        (the ``<pad>`` row stays zero); returns the model."""
        vectors = np.asarray(vectors.data if isinstance(vectors, Tensor) else vectors)
        tables = [m.weight.data for m in (self.embed, getattr(self, "embed_static", None)) if m is not None]
        if vectors.shape != tables[0].shape:
            raise ValueError(f"TextCNN.load_vectors: expected vectors of shape {tables[0].shape} "
                             f"(vocabulary × embed_dim), got {vectors.shape}")
        for t in tables:
            t[...] = vectors
            t[self.padding_idx] = 0
        return self

    def forward(self, ids):
        ids = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
        if ids.ndim != 2:
            raise ValueError(f"TextCNN: expected word ids of shape (N, L), got {ids.shape}")
        pad = max(self.widths) - 1
        ids = np.pad(ids, ((0, 0), (pad, pad)), constant_values=self.padding_idx)
        x = self.embed(ids)                                               # (N, L', d)
        if self.mode == "multichannel":
            x = cat([x, self.embed_static(ids)], axis=2)                 # (N, L', 2d)
        x = x.transpose(0, 2, 1)                                          # (N, channels·d, L')
        features = [F.relu(getattr(self, f"conv{h}")(x).max(axis=2)) for h in self.widths]
        z = cat(features, axis=1)                                         # (N, widths·maps)
        z = F.dropout(z, self.dropout, training=self.training, generator=self.generator)
        return self.fc(z)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, widths={self.widths}, dropout={self.dropout}"
