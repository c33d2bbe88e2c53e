"""Read a PyTorch legacy-format state dict (.pth, pre-zip serialisation) with NumPy only.

The Silent-Face-Anti-Spoofing weights use the legacy layout: five pickles in a row (magic number,
protocol, system info, the state dict whose tensors name storages by persistent id, the list of
storage keys), then each storage's raw little-endian bytes prefixed by an int64 element count.
Only the classes a state dict needs are allowed; anything else in the pickle is refused.
"""

from __future__ import annotations

import collections
import pickle
import struct
import sys
from pathlib import Path
from typing import IO, Any

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ByteStorage": np.uint8,
}


class PthError(ValueError):
    """E_PTH_FORMAT: the file is not a legacy PyTorch state dict this reader understands."""

    code = "E_PTH_FORMAT"


class _Storage:
    def __init__(self, key: str, dtype: type) -> None:
        self.key = key
        self.dtype = dtype
        self.data: np.ndarray | None = None


class _Tensor:
    def __init__(self, storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def array(self) -> np.ndarray:
        assert self.storage.data is not None
        item = self.storage.data.itemsize
        return np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset :], shape=self.size, strides=[s * item for s in self.stride]
        ).copy()


def _rebuild(storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any) -> _Tensor:
    return _Tensor(storage, offset, tuple(size), tuple(stride))


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _Unpickler(pickle.Unpickler):
    def __init__(self, f: IO[bytes], storages: dict[str, _Storage]) -> None:
        super().__init__(f)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise PthError(f"E_PTH_FORMAT: class {module}.{name} not allowed; remedy: use the published .pth")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise PthError("E_PTH_FORMAT: unknown persistent id; remedy: use the published .pth")
        storage_type, key = pid[1], str(pid[2])
        if key not in self.storages:
            self.storages[key] = _Storage(key, _DTYPES[storage_type.name])
        return self.storages[key]


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Return {parameter name: array} from a legacy .pth file."""
    with path.open("rb") as f:
        storages: dict[str, _Storage] = {}
        # every pickle, the header ones too, goes through the restricted unpickler
        if _Unpickler(f, storages).load() != LEGACY_MAGIC:
            raise PthError(f"E_PTH_FORMAT: {path.name} is not a legacy .pth; remedy: use the published weights")
        _Unpickler(f, storages).load()  # protocol version
        _Unpickler(f, storages).load()  # system info
        state = _Unpickler(f, storages).load()
        keys = _Unpickler(f, storages).load()
        for key in keys:
            (count,) = struct.unpack("<q", f.read(8))
            st = storages[str(key)]
            raw = f.read(count * np.dtype(st.dtype).itemsize)
            st.data = np.frombuffer(raw, dtype=np.dtype(st.dtype).newbyteorder("<"))
    return {name: t.array() for name, t in state.items() if isinstance(t, _Tensor)}


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        sd = load_state_dict(Path(arg))
        total = sum(a.size for a in sd.values())
        print(f"{Path(arg).name}: {len(sd)} tensors, {total} parameters")
