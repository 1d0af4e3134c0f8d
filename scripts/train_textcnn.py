"""Kim's (2014) sentence CNN on the sentence polarity data (rt-polarity), with glassnet.

Protocol: one fixed, seeded split of the 10,662 snippets into 90% training and
10% test (stratified: 533 + 533 test snippets); 10% of the training part is held
out as a development set, and the reported test accuracy is that of the epoch
with the best development accuracy (Kim's early stopping). The vocabulary (min
count 1) and any glassnet-trained word vectors come from the training part only;
test words outside it map to <unk>.

Variants (``--modes``): ``rand`` (embeddings from U(-0.25, 0.25), trained),
``static``, ``non-static`` and ``multichannel`` (two channels from the same
vectors, one frozen, one fine-tuned). Vectors: a GloVe / word2vec text file
given with ``--vectors``, otherwise a skip-gram with negative sampling trained by
glassnet on the training sentences (``pretrain_skipgram``).

Model as in the paper: filter widths 3, 4, 5 with 100 maps each, ReLU,
max-over-time pooling, dropout 0.5, a linear layer to 2 classes, mini-batches of
50 (length-bucketed, each padded to its longest snippet); Adam instead of
Adadelta; optionally Kim's max-norm constraint on the classifier's weight rows.

    nice -n 10 python scripts/train_textcnn.py --out results/textcnn.json
    python scripts/train_textcnn.py --modes rand --epochs 2 --limit 2000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

import glassnet as gn
import glassnet.functional as F
from glassnet import optim
from glassnet.data.text import (Vocabulary, bucket_batches, load_rt_polarity, load_word_vectors, pad_sequences,
                                pretrain_skipgram, tokenize)
from glassnet.models.textcnn import MODES, TextCNN


def split(labels: np.ndarray, fraction: float, rng: np.random.Generator):
    """Stratified split of indices: (rest, held out) with ``fraction`` of each class held out."""
    held = []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        held.append(members[:int(round(fraction * members.size))])
    held = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(labels.size), held), held


def accuracy(model, ids: list, labels: np.ndarray, batch_size: int = 500) -> float:
    model.eval()
    order = np.argsort([len(s) for s in ids], kind="stable")
    correct = 0
    with gn.no_grad():
        for start in range(0, order.size, batch_size):
            batch = order[start:start + batch_size]
            logits = model(pad_sequences([ids[i] for i in batch]))
            correct += int((logits.data.argmax(axis=1) == labels[batch]).sum())
    return correct / labels.size


def max_norm_(weight: np.ndarray, limit: float) -> None:
    """Kim's constraint: rescale each row w (one class) to ‖w‖₂ = limit when it is longer."""
    norms = np.linalg.norm(weight, axis=1, keepdims=True)
    weight *= np.minimum(1.0, limit / np.maximum(norms, 1e-12))


def train_variant(mode, vectors, data, args, seed):
    (train_ids, y_train), (dev_ids, y_dev), (test_ids, y_test), vocab = data
    rng = np.random.default_rng(seed)
    model = TextCNN(len(vocab), args.dim if vectors is None else vectors.shape[1], mode=mode,
                    maps=args.maps, dropout=args.dropout, generator=rng)
    if mode != "rand":
        model.load_vectors(vectors)
    opt = optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    lengths = np.array([len(s) for s in train_ids])
    curve, best = [], None
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        total, seen = 0.0, 0
        t0 = time.perf_counter()
        for batch in bucket_batches(lengths, args.batch_size, rng):
            logits = model(pad_sequences([train_ids[i] for i in batch]))
            loss = F.cross_entropy(logits, y_train[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if args.max_norm:
                max_norm_(model.fc.weight.data, args.max_norm)
            total += loss.item() * batch.size
            seen += batch.size
        epoch_seconds = time.perf_counter() - t0
        dev, test = accuracy(model, dev_ids, y_dev), accuracy(model, test_ids, y_test)
        curve.append({"epoch": epoch, "train_loss": total / seen, "dev_accuracy": dev, "test_accuracy": test,
                      "epoch_seconds": epoch_seconds})
        print(f"  {mode:12s} epoch {epoch:2d}: loss {total / seen:.4f}, dev {dev:.4f}, test {test:.4f} "
              f"({epoch_seconds:.0f} s)", flush=True)
        if best is None or dev > best["dev_accuracy"]:
            best = curve[-1]
    return {"mode": mode, "test_accuracy_at_best_dev": best["test_accuracy"], "best_epoch": best["epoch"],
            "best_dev_accuracy": best["dev_accuracy"], "train_seconds": time.perf_counter() - start, "curve": curve}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="rand,multichannel", help=f"comma-separated, from {', '.join(MODES)}")
    parser.add_argument("--data-dir", default=None, help="folder with rt-polarity.neg/.pos (default: glassnet's lookup)")
    parser.add_argument("--vectors", default=None, help="GloVe / word2vec text file (default: train skip-gram vectors)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--dim", type=int, default=300, help="embedding size of rand / of skip-gram vectors")
    parser.add_argument("--maps", type=int, default=100, help="feature maps per filter width")
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--max-norm", type=float, default=3.0, help="Kim's l2 limit on classifier rows (0: none)")
    parser.add_argument("--sg-epochs", type=int, default=5, help="skip-gram epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="use only this many snippets (a quick look)")
    parser.add_argument("--floor", type=float, default=0.74, help="CNN-rand's test-accuracy floor from the README")
    parser.add_argument("--out", default=None, help="write the results as JSON to this path")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",")]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown modes {unknown}; choose from {MODES}")

    gn.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    sentences, labels = load_rt_polarity(args.data_dir)
    if args.limit:
        keep = np.sort(rng.permutation(labels.size)[:args.limit])
        sentences, labels = [sentences[i] for i in keep], labels[keep]
    tokens = [tokenize(s) for s in sentences]
    train_all, test = split(labels, 0.1, rng)
    rest, held = split(labels[train_all], 0.1, rng)
    train, dev = train_all[rest], train_all[held]
    vocab = Vocabulary.build(tokens[i] for i in train)
    encoded = [vocab.encode(t) for t in tokens]
    data = tuple(([encoded[i] for i in part], labels[part]) for part in (train, dev, test)) + (vocab,)
    print(f"rt-polarity: {labels.size} snippets; train {train.size}, dev {dev.size}, test {test.size}; "
          f"vocabulary {len(vocab)} (from the training part)", flush=True)

    vectors, vector_info = None, None
    if any(m != "rand" for m in modes):
        t0 = time.perf_counter()
        if args.vectors:
            vectors, found = load_word_vectors(args.vectors, vocab, generator=rng)
            vector_info = {"source": os.path.abspath(args.vectors), "found": int(found.sum()), "of": len(vocab)}
        else:
            vectors, losses = pretrain_skipgram([tokens[i] for i in train], vocab, dim=args.dim,
                                                epochs=args.sg_epochs, generator=rng)
            vector_info = {"source": "skip-gram with negative sampling, trained by glassnet on the training part",
                           "dim": args.dim, "epochs": args.sg_epochs, "loss_per_epoch": losses}
        vector_info["seconds"] = time.perf_counter() - t0
        print(f"word vectors: {vector_info}", flush=True)

    results = []
    for mode in modes:
        result = train_variant(mode, vectors, data, args, args.seed)
        results.append(result)
        print(f"{mode}: TEST accuracy {result['test_accuracy_at_best_dev']:.4f} at epoch {result['best_epoch']} "
              f"(best dev {result['best_dev_accuracy']:.4f}); {result['train_seconds']:.0f} s", flush=True)
    for r in results:
        if r["mode"] == "rand":
            print(f"CNN-rand floor {args.floor:.2f}: {'met' if r['test_accuracy_at_best_dev'] >= args.floor else 'NOT met'}")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump({"protocol": "fixed stratified 90/10 train/test split (seed), 10% of train as dev; "
                                   "test accuracy at the best dev epoch",
                       "args": vars(args), "vectors": vector_info, "results": results,
                       "machine": f"{platform.node()} ({os.cpu_count()} CPUs), numpy {np.__version__}"}, f, indent=2)


if __name__ == "__main__":
    main()
