"""ui.serving.result_codec: real results come back equal (every array, dtype and frame), and bytes
that this app did not write for the key are rejected, never unpickled."""

import dataclasses
import io
import json
import pickle
import struct
import zlib

import numpy as np
import pandas as pd
import pytest

from core import NetworkConfig, TrainConfig, simulate, train
from core.jacobian import jacobian_spectrum
from ui.serving.result_codec import MAGIC, EncodeError, NotOurs, decode, encode
from ui.serving.theory_cache import PhaseMap, compute_phase_map

KEY = "vl:result:simulation:v:depth=3"


def assert_same(a, b, where="value"):
    assert type(a) is type(b), f"{where}: {type(a)} vs {type(b)}"
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def round_trip(value, types=()):
    back = decode(encode(value, KEY, types), KEY, types)
    assert_same(value, back)
    return back


def test_a_simulation_comes_back_equal():
    # Batch norm, a residual, float64, an overflow: NaN/inf in the statistics, None fields.
    round_trip(simulate(NetworkConfig(depth=4, width=16, batch_size=8, norm="batchnorm",
                                      residual=True, dtype="float64")))
    overflow = simulate(NetworkConfig(depth=60, width=64, batch_size=16, activation="relu",
                                      init="normal", init_std=1.0))
    assert overflow.first_nonfinite_layer is not None
    round_trip(overflow)


def test_a_training_run_a_spectrum_and_a_phase_map_come_back_equal():
    run = train(NetworkConfig(depth=3, width=16, norm="batchnorm"),
                TrainConfig(n_points=60, steps=20, batch_size=10))
    back = round_trip(run)
    assert back.network.running[0][0].flags.writeable  # a usable copy, not a frozen buffer
    round_trip(jacobian_spectrum(NetworkConfig(depth=3, width=16, batch_size=8)))
    round_trip(compute_phase_map("relu", 0.01, points=8), types=(PhaseMap,))


def test_numpy_scalars_non_finite_floats_and_tuple_keys_keep_their_kind():
    value = {("act", "std"): (np.float32(1.5), float("nan"), float("-inf"), None, True, 3),
             "orders": [np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.zeros(0, bool)]}
    round_trip(value)


class Marker:
    """If this is ever unpickled, ``Marker.ran`` says so."""

    ran = []

    def __reduce__(self):
        return (Marker.ran.append, ("unpickled",))


def test_a_pickle_is_rejected_not_unpickled():
    for data in (pickle.dumps(Marker()), pickle.dumps({"layer_stats": Marker()}),
                 MAGIC + pickle.dumps(Marker())):
        with pytest.raises(NotOurs):
            decode(data, KEY)
    assert Marker.ran == []


def forged(header: dict, arrays=(), compress=True, flags=1) -> bytes:
    raw = json.dumps(header).encode()
    body = struct.pack(">I", len(raw)) + raw + b"".join(arrays)
    return MAGIC + bytes([1, flags]) + (zlib.compress(body) if compress else body)


def npy(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_values_that_are_not_ours_are_rejected():
    good = encode({"x": np.arange(3)}, KEY)
    objects = npy(np.array([Marker()], dtype=object), allow_pickle=True)
    # A header that claims 8 TB, followed by 32 bytes: refused before anything is allocated.
    lying = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        lying, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    huge = lying.getvalue() + bytes(32)
    mangled = npy(np.zeros(4)).replace(b"(4,)", b"(4,(")
    cases = {
        "another key": (good, "vl:result:simulation:v:depth=4"),
        "truncated": (good[:-5], KEY),
        "a flipped byte": (good[:20] + bytes([good[20] ^ 0xFF]) + good[21:], KEY),
        "unknown format": (good[:8] + b"\x02" + good[9:], KEY),
        "a class not allowed": (forged({"key": KEY, "arrays": [], "tree": {
            "dataclass": ["subprocess.Popen", {"args": "true"}]}}), KEY),
        "fields of another class": (forged({"key": KEY, "arrays": [], "tree": {
            "dataclass": ["core.config.NetworkConfig", {"depth": 3, "evil": 1}]}}), KEY),
        "a config that does not validate": (forged({"key": KEY, "arrays": [], "tree": {
            "dataclass": ["core.config.NetworkConfig",
                          {f.name: f.default for f in dataclasses.fields(NetworkConfig)}
                          | {"depth": 10**9}]}}), KEY),
        "an object array": (forged({"key": KEY, "arrays": [len(objects)],
                                    "tree": {"array": 0}}, [objects]), KEY),
        "an array header that lies": (forged({"key": KEY, "arrays": [len(huge)],
                                              "tree": {"array": 0}}, [huge]), KEY),
        "an array header that does not parse": (forged({"key": KEY, "arrays": [len(mangled)],
                                                        "tree": {"array": 0}}, [mangled]), KEY),
        "an array out of range": (forged({"key": KEY, "arrays": [], "tree": {"array": 3}}),
                                  KEY),
        "an unknown node": (forged({"key": KEY, "arrays": [], "tree": {"eval": "1"}}), KEY),
        "lengths that do not add up": (forged({"key": KEY, "arrays": [10],
                                               "tree": None}), KEY),
        "a header of another shape": (forged({"key": KEY, "tree": None}), KEY),
        "a decompression bomb": (MAGIC + b"\x01\x01" + zlib.compress(b"\0" * (80 * 2**20)),
                                 KEY),
        "deep nesting": (forged({"key": KEY, "arrays": [],
                                 "tree": json.loads("[" * 50 + "]" * 50)}), KEY),
        "not bytes at all": (b"", KEY),
    }
    for what, (data, key) in cases.items():
        with pytest.raises(NotOurs):
            decode(data, key)
            pytest.fail(f"accepted: {what}")
    assert Marker.ran == []


def test_what_the_format_does_not_carry_is_refused_when_encoding():
    with pytest.raises(EncodeError):
        encode(pd.DataFrame({"name": ["a", "b"]}), KEY)
    with pytest.raises(EncodeError):
        encode(np.array([object()], dtype=object), KEY)
    with pytest.raises(EncodeError):
        encode(object(), KEY)

    @dataclasses.dataclass
    class NotAllowed:
        x: int

    with pytest.raises(EncodeError):
        encode(NotAllowed(1), KEY)
