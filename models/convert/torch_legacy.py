"""Read a PyTorch checkpoint in the legacy (pre-1.6, non-zip) format with NumPy only: no torch import.

The legacy format is a run of pickles followed by raw storage bytes:
magic number, protocol version (1001), system info, the pickled object (tensors refer to their
storages through persistent ids), the list of storage keys in file order, then for each storage an
int64 element count and its little-endian data.  Only the handful of globals a state dict needs are
allowed (an OrderedDict of tensors); anything else in the pickle is refused, so a checkpoint cannot
run code when it is read.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ByteStorage": np.uint8,
}


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: type[np.generic]
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(
    storage: _StorageRef, offset: int, shape: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(int(s) for s in shape), tuple(int(s) for s in stride))


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = STORAGE_DTYPES[name]


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing global {module}.{name} in a checkpoint")

    def persistent_load(self, pid: Any) -> _StorageRef:
        kind, storage_type, key, _location, numel, view = pid
        if kind != "storage" or view is not None or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        return _StorageRef(str(key), storage_type.dtype, int(numel))


def _restricted(stream: io.BytesIO) -> Any:
    return _Unpickler(stream).load()


def load_state_dict(path: Path) -> collections.OrderedDict[str, np.ndarray]:
    """Every tensor of a legacy-format state dict as a NumPy array (copied, C-contiguous)."""
    stream = io.BytesIO(path.read_bytes())
    if _restricted(stream) != MAGIC_NUMBER:
        raise ValueError(f"{path.name}: not a legacy PyTorch checkpoint (bad magic number)")
    if _restricted(stream) != PROTOCOL_VERSION:
        raise ValueError(f"{path.name}: unsupported legacy protocol version")
    info = _restricted(stream)
    if not info.get("little_endian", False):
        raise ValueError(f"{path.name}: big-endian checkpoints are not supported")
    tree = _restricted(stream)
    keys = _restricted(stream)
    if not isinstance(tree, collections.OrderedDict):
        raise TypeError(f"{path.name}: expected a state dict, got {type(tree).__name__}")
    refs = {name: ref for name, ref in tree.items() if isinstance(ref, _TensorRef)}
    by_key = {ref.storage.key: ref.storage for ref in refs.values()}
    data: dict[str, np.ndarray] = {}
    for key in keys:
        storage = by_key.get(str(key))
        (numel,) = struct.unpack("<q", stream.read(8))
        dtype = np.dtype(storage.dtype if storage else np.float32)
        raw = stream.read(numel * dtype.itemsize)
        if len(raw) != numel * dtype.itemsize:
            raise ValueError(f"{path.name}: truncated storage {key}")
        if storage is not None:
            if numel != storage.numel:
                raise ValueError(f"{path.name}: storage {key} holds {numel} values, pickle says {storage.numel}")
            data[storage.key] = np.frombuffer(raw, dtype=dtype.newbyteorder("<"))
    if stream.read(1):
        raise ValueError(f"{path.name}: trailing bytes after the last storage")
    out: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()
    for name, ref in refs.items():
        flat = data[ref.storage.key]
        itemsize = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[ref.offset :], shape=ref.shape, strides=tuple(s * itemsize for s in ref.stride)
        )
        out[name] = np.ascontiguousarray(view).astype(flat.dtype.newbyteorder("="))
    return out
