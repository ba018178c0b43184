"""Results as compact bytes for the shared store, and back, without pickle.

A shared store is input: anything that can write to it (another program, another version of
this app, a person with ``redis-cli``) must not run code in the app. So a value is bytes in a
format this module parses itself, and ``decode`` rejects (``NotOurs``) whatever it did not
write for the key it is asked about; it never unpickles.

Layout: ``MAGIC`` (8 bytes), the format number (1 byte), flags (1 byte: 1 = the rest is
zlib-compressed), then (after decompressing, at most ``MAX_BYTES``) a 4-byte big-endian header
length, the header (UTF-8 JSON) and the arrays' bytes one after another. The header holds the
store key the value was written for (a value copied under another key is rejected), the
arrays' lengths, and the value as a tree of JSON nodes:

- ``null``, booleans, integers, strings and finite floats as themselves; ``{"float": "nan"}``
  (also "inf", "-inf") for the others;
- ``{"list": […]}``, ``{"tuple": […]}``, ``{"dict": [[key, value], …]}`` (keys are nodes:
  ``Histograms.sets`` has tuple keys);
- ``{"array": i}``: the i-th array, in NumPy's ``.npy`` format read with
  ``allow_pickle=False`` and only of numeric or boolean dtype; ``{"scalar": i}``: a NumPy
  scalar, stored as a 0-d array;
- ``{"frame": {"columns": […], "data": […], "index": …}}``: a DataFrame of numeric or boolean
  columns, one array each, its index a ``{"range": [start, stop, step]}`` or an array;
- ``{"dataclass": [name, {field: node, …}]}``: an instance of one of the ``types`` the caller allows
  (core's result classes by default), made by calling the class with exactly its fields (the
  configs validate themselves).

Encoding anything else (an object column, an unknown class) raises ``EncodeError``: such a
result is not shared, it stays in the replica's own cache.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import struct
import zlib
from typing import Any, Iterable

import numpy as np
import pandas as pd

MAGIC = b"VLRESULT"
FORMAT = 1
COMPRESSED = 1
#: A decoded value larger than this is refused (a training run is ≈ 0.5 MB, a depth-200
#: simulation ≈ 0.4 MB): a hostile value cannot make a replica allocate gigabytes.
MAX_BYTES = 64 * 2**20
MAX_HEADER_BYTES = 4 * 2**20
#: zlib's fastest level: ≈ 3–5× smaller for a few milliseconds.
ZLIB_LEVEL = 1
#: Array dtype kinds accepted: booleans, integers, unsigned, floats, complex.
ARRAY_KINDS = "biufc"
MAX_DEPTH = 32


class NotOurs(ValueError):
    """The bytes are not a value this module wrote for this key (or are damaged)."""


class EncodeError(TypeError):
    """The value holds something this format does not carry."""


def result_types() -> tuple[type, ...]:
    """Core's result classes and the configs inside them: what ``decode`` may build."""
    from core import NetworkConfig, SimulationResult, TrainConfig, TrainResult
    from core.block import Network
    from core.jacobian import JacobianSpectrum
    from core.simulate import Histograms
    from core.stats import HistogramSet
    from core.train import Snapshots

    return (SimulationResult, Histograms, HistogramSet, NetworkConfig, TrainResult, TrainConfig,
            Snapshots, Network, JacobianSpectrum)


def type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class _Encoder:
    def __init__(self, types: dict[str, type]) -> None:
        self.types = types
        self.arrays: list[bytes] = []

    def array(self, array: np.ndarray) -> int:
        if array.dtype.kind not in ARRAY_KINDS:
            raise EncodeError(f"an array of dtype {array.dtype} is not carried")
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        self.arrays.append(buffer.getvalue())
        return len(self.arrays) - 1

    def node(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise EncodeError("the value nests too deeply")
        inner = depth + 1
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, np.integer):
            return value
        if isinstance(value, float) and not isinstance(value, np.floating):
            return value if math.isfinite(value) else {"float": repr(value)}
        if isinstance(value, np.generic):
            return {"scalar": self.array(np.asarray(value))}
        if isinstance(value, np.ndarray):
            return {"array": self.array(value)}
        if isinstance(value, pd.DataFrame):
            return {"frame": self.frame(value, inner)}
        if isinstance(value, list):
            return {"list": [self.node(item, inner) for item in value]}
        if isinstance(value, tuple):
            return {"tuple": [self.node(item, inner) for item in value]}
        if isinstance(value, dict):
            return {"dict": [[self.node(k, inner), self.node(v, inner)]
                             for k, v in value.items()]}
        if dataclasses.is_dataclass(value) and type_name(type(value)) in self.types:
            return {"dataclass": [type_name(type(value)),
                                  {f.name: self.node(getattr(value, f.name), inner)
                                   for f in dataclasses.fields(value)}]}
        raise EncodeError(f"a {type(value).__name__} is not carried")

    def frame(self, frame: pd.DataFrame, depth: int) -> dict:
        index = frame.index
        if isinstance(index, pd.RangeIndex):
            index_node: Any = {"range": [index.start, index.stop, index.step]}
        else:
            index_node = {"array": self.array(np.asarray(index))}
        columns = []
        for name in frame.columns:
            if not isinstance(name, str):
                raise EncodeError("only columns named by strings are carried")
            columns.append(name)
        return {"columns": columns, "index": index_node,
                "data": [{"array": self.array(frame[name].to_numpy())} for name in columns]}


def encode(value: Any, key: str, types: Iterable[type] = ()) -> bytes:
    """``value`` as bytes for the store under ``key`` (see the module docstring)."""
    encoder = _Encoder({type_name(cls): cls for cls in (*result_types(), *types)})
    tree = encoder.node(value)
    header = json.dumps({"key": key, "arrays": [len(a) for a in encoder.arrays],
                         "tree": tree}, separators=(",", ":"), allow_nan=False).encode()
    body = b"".join([struct.pack(">I", len(header)), header, *encoder.arrays])
    return MAGIC + bytes([FORMAT, COMPRESSED]) + zlib.compress(body, ZLIB_LEVEL)


class _Decoder:
    def __init__(self, types: dict[str, type], arrays: list[memoryview]) -> None:
        self.types = types
        self.arrays = arrays

    def array(self, index: Any) -> np.ndarray:
        if not isinstance(index, int) or isinstance(index, bool) \
                or not 0 <= index < len(self.arrays):
            raise NotOurs("an array reference out of range")
        blob = self.arrays[index]
        stream = io.BytesIO(blob)
        try:
            version = np.lib.format.read_magic(stream)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f".npy version {version}")
            shape, fortran_order, dtype = read_header(stream)
        except Exception as error:  # the header is parsed by literal_eval: any failure
            raise NotOurs(f"an array that is not .npy: {error}") from None
        if dtype.kind not in ARRAY_KINDS or dtype.hasobject:
            raise NotOurs(f"an array of dtype {dtype}")
        # The header's shape must match the bytes that follow it, before anything is
        # allocated: a header may claim any size.
        start = stream.tell()
        if math.prod(shape) * dtype.itemsize != len(blob) - start:
            raise NotOurs("an array whose header does not match its bytes")
        # What np.load(allow_pickle=False) does after the header, without parsing it again.
        flat = np.frombuffer(blob, dtype=dtype, offset=start).copy()
        return flat.reshape(shape, order="F" if fortran_order else "C")

    def node(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise NotOurs("the value nests too deeply")
        inner = depth + 1
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if isinstance(node, float):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            raise NotOurs(f"an unknown node {str(node)[:60]!r}")
        (kind, body), = node.items()
        if kind == "float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if kind == "array":
            return self.array(body)
        if kind == "scalar":
            array = self.array(body)
            if array.shape != ():
                raise NotOurs("a scalar that is not 0-d")
            return array[()]
        if kind == "list" and isinstance(body, list):
            return [self.node(item, inner) for item in body]
        if kind == "tuple" and isinstance(body, list):
            return tuple(self.node(item, inner) for item in body)
        if kind == "dict" and isinstance(body, list):
            pairs = {}
            for pair in body:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise NotOurs("a dict entry that is not a pair")
                key = self.node(pair[0], inner)
                try:
                    pairs[key] = self.node(pair[1], inner)
                except TypeError:  # an unhashable key
                    raise NotOurs("a dict key that cannot be one") from None
            return pairs
        if kind == "frame" and isinstance(body, dict):
            return self.frame(body)
        if kind == "dataclass" and isinstance(body, list) and len(body) == 2:
            return self.dataclass(*body, depth=inner)
        raise NotOurs(f"an unknown node kind {kind!r}")

    def frame(self, body: dict) -> pd.DataFrame:
        columns, data, index = body.get("columns"), body.get("data"), body.get("index")
        if not (isinstance(columns, list) and isinstance(data, list)
                and len(columns) == len(data) and all(isinstance(c, str) for c in columns)):
            raise NotOurs("a frame without matching columns")
        arrays = [self.node(item) for item in data]
        if not all(isinstance(a, np.ndarray) and a.ndim == 1 for a in arrays):
            raise NotOurs("a frame column that is not a 1-d array")
        if isinstance(index, dict) and set(index) == {"range"}:
            bounds = index["range"]
            if not (isinstance(bounds, list) and len(bounds) == 3
                    and all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
                    and bounds[2] != 0):
                raise NotOurs("a frame index that is not a range")
            frame_index: Any = pd.RangeIndex(*bounds)
        else:
            frame_index = self.node(index)
            if not isinstance(frame_index, np.ndarray) or frame_index.ndim != 1:
                raise NotOurs("a frame index that is not a 1-d array")
        if any(len(a) != len(frame_index) for a in arrays):
            raise NotOurs("frame columns of different lengths")
        frame = pd.DataFrame(dict(enumerate(arrays)), index=frame_index)
        frame.columns = columns
        return frame

    def dataclass(self, name: Any, fields: Any, depth: int) -> Any:
        cls = self.types.get(name) if isinstance(name, str) else None
        if cls is None:
            raise NotOurs(f"a class that is not allowed: {str(name)[:80]!r}")
        expected = {f.name for f in dataclasses.fields(cls) if f.init}
        if not isinstance(fields, dict) or set(fields) != expected:
            raise NotOurs(f"fields that are not {cls.__name__}'s")
        try:
            return cls(**{name: self.node(node, depth) for name, node in fields.items()})
        except NotOurs:
            raise
        except (TypeError, ValueError) as error:  # a config that does not validate
            raise NotOurs(f"a {cls.__name__} that does not build: {error}") from None


def decode(data: bytes, key: str, types: Iterable[type] = ()) -> Any:
    """The value ``encode`` wrote for ``key``; ``NotOurs`` for anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise NotOurs("not bytes")
    data = bytes(data)
    if len(data) < len(MAGIC) + 2 or not data.startswith(MAGIC):
        raise NotOurs("no Variance Lab header")
    version, flags = data[len(MAGIC)], data[len(MAGIC) + 1]
    if version != FORMAT or flags & ~COMPRESSED:
        raise NotOurs(f"format {version} with flags {flags}")
    body = data[len(MAGIC) + 2:]
    if flags & COMPRESSED:
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(body, MAX_BYTES + 1)
        except zlib.error as error:
            raise NotOurs(f"damaged: {error}") from None
        if len(body) > MAX_BYTES or inflater.unconsumed_tail or not inflater.eof:
            raise NotOurs("larger than a result may be, or truncated")
    if len(body) < 4:
        raise NotOurs("truncated")
    (header_length,) = struct.unpack(">I", body[:4])
    if header_length > min(MAX_HEADER_BYTES, len(body) - 4):
        raise NotOurs("a header longer than the value")
    try:
        header = json.loads(body[4:4 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise NotOurs(f"a header that is not JSON: {error}") from None
    if not isinstance(header, dict) or set(header) != {"key", "arrays", "tree"}:
        raise NotOurs("a header of another shape")
    if header["key"] != key:
        raise NotOurs("written for another key")
    lengths = header["arrays"]
    if not (isinstance(lengths, list)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                    for n in lengths)):
        raise NotOurs("array lengths that are not lengths")
    view = memoryview(body)[4 + header_length:]
    if sum(lengths) != len(view):
        raise NotOurs("array lengths that do not add up")
    arrays, offset = [], 0
    for length in lengths:
        arrays.append(view[offset:offset + length])
        offset += length
    types_by_name = {type_name(cls): cls for cls in (*result_types(), *types)}
    try:
        return _Decoder(types_by_name, arrays).node(header["tree"])
    except NotOurs:
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, OverflowError,
            MemoryError) as error:
        raise NotOurs(f"damaged: {type(error).__name__}: {error}") from None
