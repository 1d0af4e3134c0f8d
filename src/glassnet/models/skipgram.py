"""Word vectors glassnet trains itself: skip-gram with negative sampling
(Mikolov et al. 2013), for the sentence CNN's pretrained channels."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..data.text import Vocabulary
from ..functional.embedding import embedding
from ..functional.losses import binary_cross_entropy_with_logits
from ..nn.module import Parameter
from ..random import get_generator
from ..tensor import Tensor


def _skipgram_pairs(corpus: np.ndarray, sentence_of: np.ndarray, window: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(center, context) id pairs within each sentence, with word2vec's reduced
    window: each center looks b ~ U{1..window} words to each side."""
    reach = rng.integers(1, window + 1, size=corpus.size)
    centers, contexts = [], []
    for offset in range(1, window + 1):
        left, right = np.arange(corpus.size - offset), np.arange(offset, corpus.size)
        same = sentence_of[left] == sentence_of[right]
        for c, o in ((left, right), (right, left)):
            keep = same & (reach[c] >= offset)
            centers.append(corpus[c[keep]])
            contexts.append(corpus[o[keep]])
    return np.concatenate(centers), np.concatenate(contexts)


def pretrain_skipgram(sentences, vocab: Vocabulary, dim: int = 100, epochs: int = 5, window: int = 5,
                      negatives: int = 5, generator: np.random.Generator | None = None, lr: float = 0.025,
                      batch_size: int = 256, subsample: float = 1e-3,
                      dtype=None) -> tuple[np.ndarray, list[float]]:
    """Word vectors (V, dim) by skip-gram with negative sampling (Mikolov et
    al. 2013), trained with glassnet's embedding op and autograd.

    For a center word c and a context word o (within the window) with K
    negative words n_k drawn from the unigram distribution raised to 3/4,

        ℓ = −ln σ(u_o·v_c) − Σ_k ln σ(−u_{n_k}·v_c),

    with input vectors v (the result) and output vectors u. Each mini-batch
    gathers the rows it touches into two small parameter tables, glassnet
    computes the summed loss and its gradient with respect to those rows, and
    plain SGD updates only those rows of the full tables (the sparse update of
    word2vec: the cost of a step does not grow with V). ``lr`` is word2vec's
    per-pair rate, decayed linearly towards 0. Frequent words are dropped per
    epoch with probability 1 − (√(f/t) + 1)·t/f (f = relative frequency,
    t = ``subsample``). ``sentences`` are token lists; ``<pad>`` and ``<unk>``
    are not trained (the ``<pad>`` row is returned as zero).

    Returns (vectors, losses): the input vectors (V, dim) and the mean loss per
    (center, context) pair of each epoch.
    """
    rng = get_generator(generator)
    dtype = dtype or backend.default_dtype()
    ids = [np.asarray(vocab.encode(s), dtype=np.int64) for s in sentences]
    corpus = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    sentence_of = np.repeat(np.arange(len(ids)), [len(s) for s in ids])
    known = corpus > vocab.unk_index
    corpus, sentence_of = corpus[known], sentence_of[known]
    if corpus.size < 2:
        raise ValueError("pretrain_skipgram: the sentences hold fewer than 2 known tokens")
    counts = np.bincount(corpus, minlength=len(vocab)).astype(np.float64)
    noise_cdf = np.cumsum(counts ** 0.75)
    noise_cdf /= noise_cdf[-1]
    frequency = counts / counts.sum()
    keep_prob = np.minimum(1.0, (np.sqrt(frequency / subsample) + 1) * subsample / np.maximum(frequency, 1e-12))

    v_table = rng.uniform(-0.5 / dim, 0.5 / dim, (len(vocab), dim)).astype(dtype)
    u_table = np.zeros((len(vocab), dim), dtype=dtype)
    labels = np.zeros((1, 1 + negatives), dtype=dtype)
    labels[0, 0] = 1
    total_steps, step = None, 0  # pairs are drawn per epoch; the first epoch's count sets the decay
    losses = []
    for _ in range(epochs):
        kept = rng.random(corpus.size) < keep_prob[corpus]
        centers, contexts = _skipgram_pairs(corpus[kept], sentence_of[kept], window, rng)
        order = rng.permutation(centers.size)
        if total_steps is None:
            total_steps = epochs * max(1, -(-centers.size // batch_size))
        total = 0.0
        for start in range(0, centers.size, batch_size):
            batch = order[start:start + batch_size]
            noise = np.searchsorted(noise_cdf, rng.random((batch.size, negatives)), side="right")
            targets = np.concatenate([contexts[batch, None], noise], axis=1)            # (B, 1+K)
            c_rows, c_local = np.unique(centers[batch], return_inverse=True)
            t_rows, t_local = np.unique(targets, return_inverse=True)
            v_part, u_part = Parameter(v_table[c_rows]), Parameter(u_table[t_rows])
            v = embedding(c_local, v_part).reshape(batch.size, 1, dim)
            scores = (embedding(t_local.reshape(targets.shape), u_part) * v).sum(axis=2)   # (B, 1+K)
            loss = binary_cross_entropy_with_logits(scores, Tensor(np.broadcast_to(labels, scores.shape)),
                                                    reduction="sum")
            loss.backward()
            rate = lr * max(1e-4, 1 - step / total_steps)
            v_table[c_rows] -= rate * v_part.grad
            u_table[t_rows] -= rate * u_part.grad
            step += 1
            total += loss.item()
        losses.append(total / max(1, centers.size))
    v_table[vocab.pad_index] = 0
    return v_table, losses
