"""make_dataset: Playground's generators, seeded, split and badly scaled on request."""

import math

import numpy as np
import pytest

from core import TrainConfig, make_dataset
from core.train_config import DATASET_NAMES


def all_points(data):
    return (np.concatenate([data.x_train, data.x_test]),
            np.concatenate([data.y_train, data.y_test])[:, 0])


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_shapes_split_and_determinism(name):
    config = TrainConfig(dataset=name, n_points=301, train_fraction=0.3, noise=0.2, seed=4)
    data = make_dataset(config)
    assert data.x_train.shape == (90, 2) and data.x_test.shape == (211, 2)
    assert data.y_train.shape == (90, 1) and data.y_test.shape == (211, 1)
    assert data.task == config.task
    again = make_dataset(config)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(data, field), getattr(again, field))
    other = make_dataset(config.replace(seed=5))
    assert not np.array_equal(data.x_train, other.x_train)


def test_circle_without_noise_is_a_disc_inside_a_ring():
    x, y = all_points(make_dataset(TrainConfig(dataset="circle", n_points=400)))
    r = np.hypot(x[:, 0], x[:, 1])
    assert y.sum() == 200
    assert r[y == 1].max() <= 2.5 and r[y == 0].min() >= 3.5 and r.max() <= 5.0


def test_circle_noise_flips_labels_but_keeps_the_points_clean():
    x, y = all_points(make_dataset(TrainConfig(dataset="circle", n_points=2000, noise=0.5)))
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.max() <= 5.0  # Playground stores the clean point
    wrong = np.mean((r < 2.5) != (y == 1))
    assert 0.05 < wrong < 0.5


def test_xor_labels_are_the_sign_of_the_product_with_a_gap_at_the_axes():
    x, y = all_points(make_dataset(TrainConfig(dataset="xor", n_points=1000)))
    assert np.abs(x).min() >= 0.3 and np.abs(x).max() <= 5.3
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] >= 0).astype(float))


def test_gauss_variance_follows_playgrounds_scale():
    # noise 0 → variance 0.5, noise 0.5 → variance 4 (per coordinate, around (±2, ±2)).
    for noise, variance in ((0.0, 0.5), (0.5, 4.0)):
        x, y = all_points(make_dataset(TrainConfig(dataset="gauss", n_points=20000, noise=noise)))
        positives = x[y == 1]
        assert np.allclose(positives.mean(axis=0), 2.0, atol=0.1)
        assert np.allclose(positives.var(axis=0), variance, rtol=0.06)


def test_spiral_points_lie_on_two_opposite_spirals():
    x, y = all_points(make_dataset(TrainConfig(dataset="spiral", n_points=200)))
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.max() < 5.0 and np.isclose(r.min(), 0.0)
    # Radius r at angle t = 1.75·2π·r/5 + δ: the angle (from +y, clockwise) predicts the class.
    for label, delta in ((1, 0.0), (0, math.pi)):
        points = x[(y == label) & (r > 0)]
        radius = np.hypot(points[:, 0], points[:, 1])
        t = 1.75 * radius / 5.0 * 2.0 * math.pi + delta
        np.testing.assert_allclose(points, np.stack([radius * np.sin(t), radius * np.cos(t)], 1),
                                   atol=1e-9)


def test_regression_sets():
    x, y = all_points(make_dataset(TrainConfig(dataset="reg_plane", n_points=500)))
    np.testing.assert_allclose(y, x.sum(axis=1) / 10.0)
    x, y = all_points(make_dataset(TrainConfig(dataset="reg_gauss", n_points=3000)))
    assert np.abs(x).max() <= 6.0 and np.abs(y).max() <= 1.0
    near = np.hypot(x[:, 0] + 4, x[:, 1] - 2.5) < 0.2  # a positive bump's centre
    assert near.any() and (y[near] > 0.85).all()


def test_feature_scale_and_shift_make_raw_features_badly_scaled():
    plain = make_dataset(TrainConfig(dataset="circle"))
    scaled = make_dataset(TrainConfig(dataset="circle", feature_scale=100.0, feature_shift=50.0))
    np.testing.assert_allclose(scaled.x_train, plain.x_train * 100.0 + 50.0)
    np.testing.assert_array_equal(scaled.y_test, plain.y_test)
    assert scaled.domain == (-550.0, 650.0, -550.0, 650.0)
