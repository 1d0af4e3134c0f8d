import gzip

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet import optim
from glassnet.data.text import (Vocabulary, bucket_batches, clean_str, load_rt_polarity, load_word_vectors,
                                pad_sequences, tokenize)
from glassnet.models.skipgram import pretrain_skipgram
from glassnet.models.textcnn import TextCNN


# ------------------------------------------------------------------ tokenizer and vocabulary
def test_clean_str_splits_clitics_and_punctuation():
    assert tokenize("It's a (very) GOOD film, isn't it?!  Yes... [sic] \"ok\"") == [
        "it", "'s", "a", "(", "very", ")", "good", "film", ",", "is", "n't", "it", "?", "!", "yes", "sic", "ok"]
    assert clean_str("We've   they'll I'd you're", lower=False) == "We 've they 'll I 'd you 're"


def test_vocabulary_orders_by_frequency_and_maps_unknowns():
    sentences = [["b", "a", "c"], ["a", "b", "a"], ["d"]]
    vocab = Vocabulary.build(sentences)
    assert vocab.itos == ["<pad>", "<unk>", "a", "b", "c", "d"]  # a:3, b:2, then c, d alphabetically
    assert vocab.counts.tolist() == [0, 0, 3, 2, 1, 1]
    assert vocab.encode(["a", "zzz", "d"]) == [2, 1, 5]
    assert vocab.decode([3, 0]) == ["b", "<pad>"]
    small = Vocabulary.build(sentences, min_freq=2)
    assert small.itos == ["<pad>", "<unk>", "a", "b"] and small["c"] == small.unk_index
    assert Vocabulary.build(sentences, max_size=1).itos == ["<pad>", "<unk>", "a"]
    with pytest.raises(ValueError, match="min_freq must be >= 1"):
        Vocabulary.build(sentences, min_freq=0)


def test_pad_sequences_pads_and_truncates():
    out = pad_sequences([[5, 6, 7], [8], []], pad_index=0)
    np.testing.assert_array_equal(out, [[5, 6, 7], [8, 0, 0], [0, 0, 0]])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(pad_sequences([[5, 6, 7], [8]], length=2, pad_index=9), [[5, 6], [8, 9]])


# ------------------------------------------------------------------ files
def test_load_word_vectors_reads_glove_format(tmp_path):
    vocab = Vocabulary.build([["good", "bad", "film", "plot"]])
    path = tmp_path / "glove.txt"
    path.write_text("good 0.5 1.0 -1.5\nunused 9 9 9\nbad -0.5 2.0 0.25\nfilm 1 2 3\ngood 7 7 7\n", encoding="utf-8")
    table, found = load_word_vectors(path, vocab, generator=np.random.default_rng(0))
    assert table.shape == (len(vocab), 3) and table.dtype == np.float32
    np.testing.assert_array_equal(table[vocab["good"]], [0.5, 1.0, -1.5])  # the first occurrence wins
    np.testing.assert_array_equal(table[vocab["bad"]], [-0.5, 2.0, 0.25])
    assert found.tolist() == [False, False] + [vocab.itos[i] in ("good", "bad", "film") for i in range(2, len(vocab))]
    assert not table[vocab.pad_index].any()
    # a missing word is drawn from U(-a, a) with the variance of the vectors found
    known = np.array([[0.5, 1.0, -1.5], [-0.5, 2.0, 0.25], [1, 2, 3]])
    a = np.sqrt(3 * known.var())
    assert np.all(np.abs(table[vocab["plot"]]) <= a) and table[vocab["plot"]].any()


def test_load_word_vectors_reads_word2vec_header_gzip_and_spaces(tmp_path):
    vocab = Vocabulary.build([["new york", "city"]])
    path = tmp_path / "vectors.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("2 2\nnew york 0.1 0.2\ncity 3 4\n")
    table, found = load_word_vectors(path, vocab, dtype=np.float64)
    assert table.dtype == np.float64 and found.sum() == 2
    np.testing.assert_array_equal(table[vocab["new york"]], [0.1, 0.2])
    np.testing.assert_array_equal(table[vocab["city"]], [3, 4])


def test_load_word_vectors_names_a_bad_line(tmp_path):
    vocab = Vocabulary.build([["a", "b"]])
    path = tmp_path / "bad.txt"
    path.write_text("a 1 2 3\nb 1 2\n")
    with pytest.raises(ValueError, match=r"bad.txt line 2 has 2 numbers, expected 3"):
        load_word_vectors(path, vocab)
    path.write_text("a 1 x 3\n")
    with pytest.raises(ValueError, match="line 1 .* not a number"):
        load_word_vectors(path, vocab)


def test_load_rt_polarity_reads_latin1_lines_only_at_newlines(tmp_path):
    (tmp_path / "rt-polarity.neg").write_bytes("dull , caf\xe9 \x85 fare\nbad\n".encode("latin-1"))
    (tmp_path / "rt-polarity.pos").write_bytes(b"great\n")
    sentences, labels = load_rt_polarity(tmp_path)
    assert sentences == ["dull , caf\xe9 \x85 fare", "bad", "great"]
    assert labels.tolist() == [0, 0, 1]
    with pytest.raises(FileNotFoundError, match="rt-polarity.neg"):
        load_rt_polarity(tmp_path / "missing")


def test_rt_polarity_has_5331_snippets_per_class(shared_data):
    sentences, labels = load_rt_polarity(shared_data("rt-polarity"))
    assert len(sentences) == 10662 and labels.sum() == 5331


# ------------------------------------------------------------------ the convolution over words
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2), (4, 0)])
def test_conv1d_gradcheck(rng, stride, padding):
    x = gn.Tensor(rng.standard_normal((2, 3, 7)), requires_grad=True)
    w = gn.Tensor(rng.standard_normal((4, 3, 3)), requires_grad=True)
    b = gn.Tensor(rng.standard_normal(4), requires_grad=True)
    report = gn.gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=stride, padding=padding), [x, w, b])
    assert report.max_rel_error < 1e-6, str(report)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 2), (3, 0), (5, 1)])
def test_conv1d_matches_torch(torch, rng, stride, padding, assert_close):
    x = rng.standard_normal((3, 5, 11)).astype(np.float32)
    w = rng.standard_normal((6, 5, 4)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    xs, ws, bs = (gn.Tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv1d(xs, ws, bs, stride=stride, padding=padding)
    expected = torch.nn.functional.conv1d(xt, wt, bt, stride=stride, padding=padding)
    assert_close(out, expected, rtol=1e-5, atol=1e-5, what="conv1d forward")
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    expected.backward(torch.from_numpy(g))
    for mine, theirs, name in ((xs, xt, "x"), (ws, wt, "weight"), (bs, bt, "bias")):
        assert_close(mine.grad, theirs.grad, rtol=1e-4, atol=1e-4, what=f"conv1d grad {name}")


def test_conv1d_over_words_is_a_conv2d_with_an_h_by_d_kernel(rng):
    sentence = rng.standard_normal((2, 9, 5))  # (N, words L, vector d)
    kernel = rng.standard_normal((3, 4, 5))  # (maps, h, d)
    by_1d = F.conv1d(gn.Tensor(sentence.transpose(0, 2, 1)), gn.Tensor(kernel.transpose(0, 2, 1)))
    by_2d = F.conv2d(gn.Tensor(sentence[:, None]), gn.Tensor(kernel[:, None]))  # (N, maps, L-h+1, 1)
    np.testing.assert_allclose(by_1d.data, by_2d.data[..., 0], rtol=1e-12)


def test_conv1d_errors_name_the_op():
    with pytest.raises(ValueError, match=r"conv1d: expected x \(N, C, L\) and weight \(F, C, k\)"):
        F.conv1d(gn.zeros(2, 3, 5), gn.zeros(4, 2, 3))
    with pytest.raises(ValueError, match="conv1d: input length 2 .* shorter than the kernel 3"):
        F.conv1d(gn.zeros(1, 3, 2), gn.zeros(4, 3, 3))


# ------------------------------------------------------------------ the sentence CNN
def test_textcnn_gradcheck_in_float64(rng):
    model = TextCNN(9, embed_dim=3, mode="non-static", widths=(2, 3), maps=2).double()
    model.load_vectors(rng.standard_normal((9, 3)))
    model.eval()  # no dropout
    model.embed.padding_idx = None  # check the padding row's true gradient too (it is normally held at 0)
    ids = np.array([[3, 4, 5, 6], [7, 8, 2, 5]])
    params = list(model.parameters())

    def run(*_):
        return model(ids)

    report = gn.gradcheck(run, params)
    assert report.max_rel_error < 1e-6, str(report)


def test_textcnn_multichannel_trains_one_channel_and_keeps_the_other(rng):
    vectors = rng.standard_normal((20, 6)).astype(np.float32)
    model = TextCNN(20, embed_dim=6, mode="multichannel", maps=4).load_vectors(vectors)
    assert model.embed.weight.requires_grad and not model.embed_static.weight.requires_grad
    assert not model.embed.weight.data[0].any()  # the padding row
    ids = rng.integers(1, 20, size=(5, 8))
    labels = rng.integers(0, 2, size=5)
    opt = optim.SGD(model.parameters(), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(ids), labels).backward()
        opt.step()
    assert model.embed_static.weight.grad is None
    np.testing.assert_array_equal(model.embed_static.weight.data[1:], vectors[1:])
    used = np.unique(ids)
    assert np.abs(model.embed.weight.data[used] - vectors[used]).max() > 1e-4
    unused = np.setdiff1d(np.arange(1, 20), used)
    np.testing.assert_array_equal(model.embed.weight.data[unused], vectors[unused])  # plain SGD: sparse rows only
    assert model(ids).shape == (5, 2)


def test_textcnn_modes_and_errors():
    assert not TextCNN(10, 4, mode="static", maps=2).embed.weight.requires_grad
    assert TextCNN(10, 4, mode="rand", maps=2).embed.weight.requires_grad
    with pytest.raises(ValueError, match="TextCNN: mode must be one of"):
        TextCNN(10, 4, mode="dynamic")
    with pytest.raises(ValueError, match=r"load_vectors: expected vectors of shape \(10, 4\)"):
        TextCNN(10, 4, maps=2).load_vectors(np.zeros((10, 5)))
    with pytest.raises(ValueError, match=r"TextCNN: expected word ids of shape \(N, L\)"):
        TextCNN(10, 4, maps=2)(np.zeros(3, dtype=np.int64))


# ------------------------------------------------------------------ skip-gram
def test_skipgram_loss_decreases_and_learns_shared_contexts():
    rng = np.random.default_rng(0)
    animals, vehicles = ["cat", "dog"], ["car", "bus"]
    sentences = []
    for _ in range(300):
        sentences.append(["the", animals[rng.integers(2)], "eats", "and", "sleeps", "purrs"])
        sentences.append(["a", vehicles[rng.integers(2)], "drives", "on", "roads", "fast"])
    vocab = Vocabulary.build(sentences)
    vectors, losses = pretrain_skipgram(sentences, vocab, dim=16, epochs=6, window=3, negatives=4,
                                        generator=np.random.default_rng(1), lr=0.05, batch_size=64, subsample=1.0)
    assert vectors.shape == (len(vocab), 16) and not vectors[vocab.pad_index].any()
    assert losses[-1] < 0.8 * losses[0], losses

    def cos(a, b):
        u, v = vectors[vocab[a]], vectors[vocab[b]]
        return u @ v / np.linalg.norm(u) / np.linalg.norm(v)

    assert cos("cat", "dog") > cos("cat", "car") + 0.3
    assert cos("car", "bus") > cos("bus", "dog") + 0.3


def test_bucket_batches_cover_every_index_once_with_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 60, size=1003)
    batches = bucket_batches(lengths, 10, generator=np.random.default_rng(1), pool=20)
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(1003))
    assert max(len(b) for b in batches) == 10
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 0.2 * np.ptp(lengths)  # random batches would span nearly the whole range
    again = bucket_batches(lengths, 10, generator=np.random.default_rng(2), pool=20)
    assert not all(np.array_equal(a, b) for a, b in zip(batches, again))


def test_textcnn_save_and_load_round_trip(tmp_path, rng):
    model = TextCNN(30, 5, mode="multichannel", maps=3).load_vectors(rng.standard_normal((30, 5)))
    gn.save(model, tmp_path / "textcnn.glassnet")
    loaded = gn.load(tmp_path / "textcnn.glassnet").eval()
    ids = rng.integers(0, 30, size=(4, 6))
    np.testing.assert_array_equal(loaded(ids).data, model.eval()(ids).data)
    assert not loaded.embed_static.weight.requires_grad and loaded.embed.weight.requires_grad


def test_rt_polarity_is_found_on_the_data_search_path(isolated, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"are in none of .*cache/glassnet/rt-polarity.*set \$GLASSNET_DATA"):
        load_rt_polarity()
    folder = isolated / "env" / "rt-polarity"
    folder.mkdir(parents=True)
    (folder / "rt-polarity.neg").write_bytes(b"bad\n")
    (folder / "rt-polarity.pos").write_bytes(b"good\nfine\n")
    monkeypatch.setenv("GLASSNET_DATA", str(isolated / "env"))
    sentences, labels = load_rt_polarity()
    assert sentences == ["bad", "good", "fine"] and labels.tolist() == [0, 1, 1]
