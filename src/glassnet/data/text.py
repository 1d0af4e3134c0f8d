"""Text for the sentence CNN: tokenizing, a vocabulary, padding, the sentence
polarity data and word vectors from a file.

The pipeline: ``tokenize`` each line (Kim's ``clean_str`` rules), build a
``Vocabulary`` from the training sentences, ``pad_sequences`` of
``vocab.encode(tokens)`` into an (N, L) integer array for ``Embedding``, and
take initial vectors from ``load_word_vectors`` (GloVe / word2vec text files)
or :func:`glassnet.models.skipgram.pretrain_skipgram` (skip-gram with
negative sampling, trained by glassnet).
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import numpy as np

from .. import backend
from ..random import get_generator
from .datasets import search_path

RT_POLARITY_FILES = ("rt-polarity.neg", "rt-polarity.pos")
RT_POLARITY_URL = "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz"

_CLEAN_RULES = [
    (re.compile(r"[^A-Za-z0-9(),!?'`]"), " "),
    (re.compile(r"'s"), " 's"),
    (re.compile(r"'ve"), " 've"),
    (re.compile(r"n't"), " n't"),
    (re.compile(r"'re"), " 're"),
    (re.compile(r"'d"), " 'd"),
    (re.compile(r"'ll"), " 'll"),
    (re.compile(r"([,!?()])"), r" \1 "),
    (re.compile(r"\s{2,}"), " "),
]


def clean_str(text: str, lower: bool = True) -> str:
    """Kim's (2014) ``clean_str``: keep letters, digits and ``(),!?'` ``; split
    off the clitics 's 've n't 're 'd 'll and the punctuation ``,!?()`` as
    tokens; squeeze spaces; lower-case. (The original left a backslash before
    split parentheses, "\\(", a quirk of its replacement strings; here they are
    plain "(" and ")".)"""
    for pattern, replacement in _CLEAN_RULES:
        text = pattern.sub(replacement, text)
    text = text.strip()
    return text.lower() if lower else text


def tokenize(text: str, lower: bool = True) -> list[str]:
    """The tokens of ``clean_str(text)``, split on spaces."""
    return clean_str(text, lower).split()


class Vocabulary:
    """A bijection between tokens and ids 0 … V−1.

    Id 0 is ``<pad>`` (the padding token) and id 1 is ``<unk>`` (every token not
    in the vocabulary); then the tokens that occur at least ``min_freq`` times,
    most frequent first (ties alphabetically, so the ids are deterministic),
    at most ``max_size`` of them. ``counts[i]`` is how often token i occurred
    (0 for the two specials).
    """

    PAD, UNK = "<pad>", "<unk>"

    def __init__(self, tokens: list[str], counts: list[int]):
        if tokens[:2] != [self.PAD, self.UNK]:
            raise ValueError(f"Vocabulary: the first two tokens must be {self.PAD!r} and {self.UNK!r}, got {tokens[:2]}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("Vocabulary: tokens must be unique")
        self.itos = list(tokens)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.counts = np.asarray(counts, dtype=np.int64)
        self.pad_index, self.unk_index = 0, 1

    @classmethod
    def build(cls, sentences, min_freq: int = 1, max_size: int | None = None) -> "Vocabulary":
        """From an iterable of token lists."""
        if min_freq < 1:
            raise ValueError(f"Vocabulary.build: min_freq must be >= 1, got {min_freq}")
        counter = Counter(token for sentence in sentences for token in sentence)
        for special in (cls.PAD, cls.UNK):
            counter.pop(special, None)
        kept = sorted((t for t, n in counter.items() if n >= min_freq), key=lambda t: (-counter[t], t))
        kept = kept[:max_size] if max_size is not None else kept
        return cls([cls.PAD, cls.UNK] + kept, [0, 0] + [counter[t] for t in kept])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        return self.stoi.get(token, self.unk_index)

    def encode(self, tokens) -> list[int]:
        """Token ids; unknown tokens become ``unk_index``."""
        return [self.stoi.get(t, self.unk_index) for t in tokens]

    def decode(self, ids) -> list[str]:
        return [self.itos[int(i)] for i in ids]

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens: {', '.join(self.itos[:6])}{', …' if len(self) > 6 else ''})"


def pad_sequences(sequences, length: int | None = None, pad_index: int = 0) -> np.ndarray:
    """An (N, L) int64 array: each sequence left-aligned, cut to ``length``
    (default: the longest sequence) and filled with ``pad_index``."""
    sequences = list(sequences)
    length = max((len(s) for s in sequences), default=0) if length is None else int(length)
    out = np.full((len(sequences), length), pad_index, dtype=np.int64)
    for row, seq in zip(out, sequences):
        seq = seq[:length]
        row[:len(seq)] = seq
    return out


def bucket_batches(lengths, batch_size: int, generator: np.random.Generator | None = None,
                   pool: int = 50) -> list[np.ndarray]:
    """Mini-batches of indices whose sequences have similar lengths, so each
    batch can be padded only to its own longest sequence.

    The indices are shuffled, cut into pools of ``pool·batch_size``, each pool
    is sorted by length (stable) and cut into batches, and the batch order is
    shuffled: every index appears exactly once per call, and a new call gives a
    new random grouping (draws from ``generator``).
    """
    lengths = np.asarray(lengths)
    rng = get_generator(generator)
    order = rng.permutation(lengths.size)
    span = pool * batch_size
    batches = []
    for start in range(0, order.size, span):
        chunk = order[start:start + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, chunk.size, batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def load_rt_polarity(root=None) -> tuple[list[str], np.ndarray]:
    """The sentence polarity data set v1.0 (Pang & Lee 2005): 5,331 negative
    and 5,331 positive movie-review snippets, one per line in
    ``rt-polarity.neg`` / ``rt-polarity.pos`` (Latin-1).

    Returns (sentences, labels) with labels 0 = negative, 1 = positive, negatives
    first, in file order. The folder is ``root`` if given, else the first folder
    of glassnet's data search path that holds both files:
    ``$GLASSNET_DATA/rt-polarity``, ``~/.cache/glassnet/rt-polarity``,
    ``/usr/share/datasets/rt-polarity`` (see :func:`glassnet.data.datasets.search_path`).
    """
    if root is None:
        dirs = search_path("rt-polarity")
        root = next((d for d in dirs if all((d / name).is_file() for name in RT_POLARITY_FILES)), None)
        if root is None:
            looked = ", ".join(str(d) for d in dirs)
            raise FileNotFoundError(f"load_rt_polarity: rt-polarity.neg and rt-polarity.pos are in none of {looked}; "
                                    f"put the two files of {RT_POLARITY_URL} into one of them (or set $GLASSNET_DATA, "
                                    f"or pass root=)")
    root = Path(root)
    sentences, labels = [], []
    for label, name in enumerate(RT_POLARITY_FILES):
        path = root / name
        if not path.is_file():
            raise FileNotFoundError(f"load_rt_polarity: {path} not found; pass root= the folder holding "
                                    f"rt-polarity.neg and rt-polarity.pos")
        # split on "\n" only: str.splitlines would also split at Latin-1's \x85 (NEL) inside a snippet
        lines = [line.strip() for line in path.read_text(encoding="latin-1").split("\n")]
        lines = [line for line in lines if line]
        sentences += lines
        labels += [label] * len(lines)
    return sentences, np.asarray(labels, dtype=np.int64)


def load_word_vectors(path, vocab: Vocabulary, dtype=None, generator: np.random.Generator | None = None,
                      encoding: str = "utf-8") -> tuple[np.ndarray, np.ndarray]:
    """Initial embedding table (V, d) for ``vocab`` from a text file of vectors.

    Format (GloVe, and word2vec's text format): one ``word x_1 … x_d`` per line,
    separated by spaces; word2vec files start with a header line ``count dim``,
    which is recognised and checked. ``.gz`` files are read compressed. A word
    may itself contain spaces (some GloVe files): the last d fields are the
    vector. Lines for words not in ``vocab`` are skipped; the first occurrence
    of a word wins.

    Rows of words the file lacks are drawn from U(−a, a) with a chosen so their
    variance equals that of the vectors found (Kim 2014's treatment of unknown
    words); the ``<pad>`` row is zero. Returns (table, found) with ``found`` a
    boolean (V,) mask of the rows read from the file.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    dtype = dtype or backend.default_dtype()
    rows: dict[int, np.ndarray] = {}
    dim = None
    with opener(path, "rt", encoding=encoding, errors="replace") as f:
        for number, line in enumerate(f, start=1):
            fields = line.rstrip("\n\r").rstrip(" ").split(" ")
            if number == 1 and len(fields) == 2 and all(x.isdigit() for x in fields):
                dim = int(fields[1])  # word2vec header: count dim
                continue
            if fields == [""]:
                continue
            if dim is None:
                dim = len(fields) - 1
            if len(fields) < dim + 1:
                raise ValueError(f"load_word_vectors: {path} line {number} has {len(fields) - 1} numbers, "
                                 f"expected {dim} (the dimension of the first vector or the header)")
            word = " ".join(fields[:len(fields) - dim])
            index = vocab.stoi.get(word)
            if index is None or index in rows or index == vocab.pad_index:
                continue
            try:
                rows[index] = np.asarray(fields[len(fields) - dim:], dtype=np.float64)
            except ValueError:
                raise ValueError(f"load_word_vectors: {path} line {number} ({word!r}) has a field "
                                 f"that is not a number") from None
    if dim is None:
        raise ValueError(f"load_word_vectors: {path} holds no vectors")
    found = np.zeros(len(vocab), dtype=bool)
    found[list(rows)] = True
    scale = np.sqrt(3 * np.var(np.stack(list(rows.values())))) if rows else 0.25
    table = get_generator(generator).uniform(-scale, scale, (len(vocab), dim))
    for index, vector in rows.items():
        table[index] = vector
    table[vocab.pad_index] = 0
    return table.astype(dtype), found


POLARITY = ("negative", "positive")


def load_text_classification(source, encoding: str = "latin-1") -> tuple[np.ndarray, np.ndarray, tuple]:
    """Labelled sentences from a folder of ``.neg`` / ``.pos`` files (one
    sentence per line, as rt-polarity) or from a CSV file with the columns
    ``text,label`` (a header row naming them is optional).

    Returns (sentences, labels, classes): an object array of N strings, int64
    labels (N,) and the class names. Polarity folders give 0 = negative,
    1 = positive; a CSV's labels are its integers 0…K−1 (names "0"…), or else
    its distinct label strings in sorted order.
    """
    import csv

    source = Path(source)
    if source.is_dir():
        files = sorted(source.glob("*.neg")) + sorted(source.glob("*.pos"))
        if not files:
            raise ValueError(f"{source}: expected .neg and .pos files (one sentence per line), found none")
        sentences, labels = [], []
        for path in files:
            # split on "\n" only: str.splitlines would also split at Latin-1's \x85 (NEL) inside a snippet
            lines = [line.strip() for line in path.read_text(encoding=encoding).split("\n")]
            lines = [line for line in lines if line]
            sentences += lines
            labels += [int(path.suffix == ".pos")] * len(lines)
        return np.asarray(sentences, dtype=object), np.asarray(labels, dtype=np.int64), POLARITY
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such folder of .neg/.pos files or CSV file")
    with open(source, newline="", encoding="utf-8", errors="replace") as f:
        rows = [row for row in csv.reader(f) if row]
    if rows and [c.strip().lower() for c in rows[0]] == ["text", "label"]:
        rows = rows[1:]
    bad = next((i for i, row in enumerate(rows) if len(row) != 2), None)
    if bad is not None or not rows:
        raise ValueError(f"{source}: expected a CSV of text,label rows"
                         + (f"; row {bad + 1} has {len(rows[bad])} fields" if bad is not None else ", found none"))
    texts, names = [r[0] for r in rows], [r[1].strip() for r in rows]
    if all(n.lstrip("-").isdigit() for n in names):
        labels = np.asarray([int(n) for n in names], dtype=np.int64)
        if labels.min() < 0:
            raise ValueError(f"{source}: integer labels must be 0 or more, got {labels.min()}")
        classes = tuple(str(c) for c in range(int(labels.max()) + 1))
    else:
        classes = tuple(sorted(set(names)))
        labels = np.asarray([classes.index(n) for n in names], dtype=np.int64)
    return np.asarray(texts, dtype=object), labels, classes


class SentenceDataset:
    """Token-id sequences and their labels, map-style: item i is
    ``(ids (L_i,) int64, label)``. Batch them with
    ``DataLoader(dataset, batch_size, collate_fn=pad_collate)``."""

    def __init__(self, sequences, labels):
        self.sequences = [np.asarray(s, dtype=np.int64) for s in sequences]
        self.labels = np.asarray(labels, dtype=np.int64)
        if len(self.sequences) != len(self.labels):
            raise ValueError(f"SentenceDataset: {len(self.sequences)} sequences but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.sequences[i], self.labels[i]


def pad_collate(examples) -> tuple[np.ndarray, np.ndarray]:
    """``[(ids, label), ...]`` -> (ids (B, L) int64 padded with id 0 to the
    batch's longest sequence (at least 1), labels (B,) int64)."""
    sequences = [ids for ids, _ in examples]
    length = max(1, max((len(ids) for ids in sequences), default=1))
    return pad_sequences(sequences, length=length), np.asarray([label for _, label in examples], dtype=np.int64)
