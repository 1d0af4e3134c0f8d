"""Transforms: scaling, one-hot, the validation split, standardization, augmentation."""

import itertools

import numpy as np
import pytest

from glassnet.data import (RandomShift, Standardizer, expand_with_shifts, flatten, one_hot, shift_images, to_float,
                           train_val_split)


def test_to_float_and_flatten():
    x = np.array([[[0, 51], [255, 128]]], dtype=np.uint8)
    f = to_float(x)
    assert f.dtype == np.float32 and f.shape == (1, 2, 2)
    np.testing.assert_allclose(f, x / 255.0, rtol=1e-7)
    assert to_float(x, np.float64).dtype == np.float64
    assert flatten(f).shape == (1, 4)
    with pytest.raises(TypeError, match="expected uint8 images"):
        to_float(f)


def test_one_hot():
    y = np.array([2, 0, 1, 2])
    np.testing.assert_array_equal(one_hot(y), np.eye(3)[y])
    assert one_hot(y, 10).shape == (4, 10) and one_hot(y).dtype == np.float32
    with pytest.raises(ValueError, match=r"labels must lie in 0..1, got 0..2"):
        one_hot(y, 2)


def test_train_val_split_holds_out_the_last_examples_like_the_book():
    x, y = np.arange(60000).reshape(-1, 1), np.arange(60000) % 10
    (xt, yt), (xv, yv) = train_val_split(x, y)
    assert len(xt) == 50000 and len(xv) == 10000
    np.testing.assert_array_equal(xv[:, 0], np.arange(50000, 60000))
    np.testing.assert_array_equal(yt, y[:50000])


def test_train_val_split_shuffled_is_a_seeded_partition():
    x, y = np.arange(100), np.arange(100) * 2
    (xt, yt), (xv, yv) = train_val_split(x, y, n_val=30, shuffle=True, generator=np.random.default_rng(5))
    assert sorted(np.concatenate([xt, xv]).tolist()) == list(range(100)) and len(xv) == 30
    np.testing.assert_array_equal(yv, xv * 2)  # pairs stay together
    assert xv.tolist() != list(range(70, 100))
    (_, _), (xv2, _) = train_val_split(x, y, n_val=30, shuffle=True, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(xv, xv2)
    with pytest.raises(ValueError, match="n_val must be between 1 and 99"):
        train_val_split(x, y, n_val=100)


def test_standardizer_per_feature_uses_training_statistics(rng):
    train = rng.normal([3.0, -1.0, 5.0], [2.0, 0.5, 0.0], size=(500, 3)).astype(np.float32)
    test = rng.normal(size=(7, 3)).astype(np.float32)
    s = Standardizer().fit(train)
    z = s.transform(train)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, :2].std(0), 1, rtol=1e-5)
    assert np.all(z[:, 2] == 0)  # a constant feature is centred, not divided by 0
    expected = (test - train.mean(0, dtype=np.float64)) / np.where(train.std(0, dtype=np.float64) > 0, train.std(0, dtype=np.float64), 1)
    np.testing.assert_allclose(s.transform(test), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s.inverse_transform(s.transform(test)), test, rtol=1e-5, atol=1e-5)


def test_standardizer_global_and_channel(rng):
    x = rng.normal(size=(20, 3, 4, 4)) * np.array([1.0, 2.0, 3.0])[:, None, None] + np.array([0.0, 5.0, -5.0])[:, None, None]
    g = Standardizer("global").fit_transform(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose([g.mean(), g.std()], [0, 1], atol=1e-12)
    c = Standardizer("channel").fit_transform(x)
    np.testing.assert_allclose(c.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(c.std(axis=(0, 2, 3)), 1, rtol=1e-12)
    with pytest.raises(ValueError, match="per must be one of"):
        Standardizer("pixel")


def test_standardizer_state_round_trip(rng):
    x = rng.integers(0, 256, (50, 8), dtype=np.uint8)
    s = Standardizer().fit(x)
    t = Standardizer()
    t.load_state_dict(s.state_dict())
    np.testing.assert_array_equal(t.transform(x), s.transform(x))
    assert s.transform(x).dtype == np.float32


def test_shift_images_matches_roll_with_zero_fill(rng):
    x = rng.integers(1, 256, (3, 5, 6), dtype=np.uint8)
    for dy, dx in itertools.product(range(-2, 3), repeat=2):
        expected = np.roll(x, (dy, dx), axis=(1, 2))
        rows, cols = np.arange(5)[:, None] - dy, np.arange(6)[None, :] - dx
        expected = np.where((rows >= 0) & (rows < 5) & (cols >= 0) & (cols < 6), expected, 0)
        np.testing.assert_array_equal(shift_images(x, dy, dx), expected, err_msg=f"shift {dy},{dx}")


def test_expand_with_shifts_like_the_book(rng):
    x = rng.integers(1, 256, (4, 28 * 28), dtype=np.uint8)  # flattened, as in the book
    y = np.arange(4)
    xe, ye = expand_with_shifts(x, y)
    assert xe.shape == (20, 784) and xe.dtype == np.uint8
    np.testing.assert_array_equal(ye, np.tile(y, 5))
    images, up = x.reshape(4, 28, 28), xe[4:8].reshape(4, 28, 28)
    np.testing.assert_array_equal(xe[:4], x)  # originals first
    np.testing.assert_array_equal(up[:, :-1], images[:, 1:])  # moved up one row
    assert (up[:, -1] == 0).all()
    for block in range(1, 5):
        moved = xe[4 * block:4 * block + 4].reshape(4, 28, 28)
        assert (moved == 0).sum() == 4 * 28  # exactly one row or column vacated per image
    xe2, _ = expand_with_shifts(images, y, shifts=[(2, -1)])
    np.testing.assert_array_equal(xe2[4:], shift_images(images, 2, -1))


def test_expand_with_rotations(rng):
    pytest.importorskip("scipy")
    x = rng.integers(0, 256, (3, 1, 7, 7), dtype=np.uint8)  # NCHW
    xe, ye = expand_with_shifts(x, np.arange(3), shifts=0, rotations=[90, 10])
    assert xe.shape == (9, 1, 7, 7) and len(ye) == 9
    # 90 degrees counter-clockwise (as displayed) about the centre is exactly rot90
    np.testing.assert_array_equal(xe[3:6], np.rot90(x, 1, axes=(2, 3)))
    small = xe[6:9].astype(float)
    assert 0 < np.abs(small - x).mean() < 60  # a slight rotation: changed, but close
    centre = (slice(None), 0, 3, 3)
    np.testing.assert_allclose(small[centre], x[centre], atol=1)  # the centre stays put


def _all_shifts(image, k, flip):
    """Every image RandomShift(k, flip) may produce from ``image`` (H, W)."""
    sources = [image, image[:, ::-1]] if flip else [image]
    return [shift_images(s, dy, dx) for s in sources for dy in range(-k, k + 1) for dx in range(-k, k + 1)]


@pytest.mark.parametrize("flip", [False, True])
def test_random_shift_outputs_are_shifts(rng, flip):
    x = rng.random((200, 6, 6)).astype(np.float32) + 0.5
    out = RandomShift(2, flip=flip, generator=np.random.default_rng(0))(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    used = set()
    for img, o in zip(x, out):
        candidates = _all_shifts(img, 2, flip)
        matches = [i for i, c in enumerate(candidates) if np.array_equal(c, o)]
        assert matches, "output is not a shift of its input"
        used.add(matches[0])
    assert len(used) == len(_all_shifts(x[0], 2, flip))  # every shift (and flip) occurs


def test_random_shift_shapes_seed_and_identity(rng):
    x = rng.random((5, 2, 4, 4)).astype(np.float32)
    a = RandomShift(1, generator=np.random.default_rng(3))(x)
    b = RandomShift(1, generator=np.random.default_rng(3))(x)
    np.testing.assert_array_equal(a, b)
    for i in range(5):  # both channels move together
        assert any(np.array_equal(a[i], shift_images(x[i], dy, dx)) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    np.testing.assert_array_equal(RandomShift(0)(x), x)
    flat = rng.random((4, 12)).astype(np.float32)
    assert RandomShift(1, image_shape=(3, 4))(flat).shape == (4, 12)
    with pytest.raises(ValueError, match="not square images; pass image_shape"):
        RandomShift(1)(flat)
