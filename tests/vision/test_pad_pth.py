"""The legacy .pth reader on a file written in the same layout (no torch needed), and its refusals."""

from __future__ import annotations

import collections
import importlib.util
import io
import pickle
import struct
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

_SPEC = importlib.util.spec_from_file_location(
    "pth_legacy", Path(__file__).resolve().parents[2] / "models" / "convert" / "pad" / "pth_legacy.py"
)
assert _SPEC is not None and _SPEC.loader is not None
pth_legacy = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(pth_legacy)


def _write_legacy(path: Path, tensors: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    torch_mod = types.ModuleType("torch")
    utils_mod = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"

    def _rebuild_tensor_v2(*args: Any) -> None:
        return None

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch_mod.FloatStorage = FloatStorage  # type: ignore[attr-defined]
    utils_mod._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", torch_mod)
    monkeypatch.setitem(sys.modules, "torch._utils", utils_mod)

    class _Ref:
        def __init__(self, key: str, n: int) -> None:
            self.key, self.n = key, n

    class _T:
        def __init__(self, ref: _Ref, shape: tuple[int, ...]) -> None:
            self.ref, self.shape = ref, shape

        def __reduce__(self) -> Any:
            strides = tuple(int(s) for s in np.cumprod((1, *self.shape[::-1]))[:-1][::-1])
            return (_rebuild_tensor_v2, (self.ref, 0, self.shape, strides, False, collections.OrderedDict()))

    class _P(pickle.Pickler):
        def persistent_id(self, obj: Any) -> Any:
            if isinstance(obj, _Ref):
                return ("storage", FloatStorage, obj.key, "cpu", obj.n)
            return None

    buf = io.BytesIO()
    for header in (pth_legacy.LEGACY_MAGIC, 1001, {"little_endian": True}):
        pickle.dump(header, buf, protocol=2)
    refs = {name: _Ref(str(i), a.size) for i, (name, a) in enumerate(tensors.items())}
    _P(buf, protocol=2).dump(collections.OrderedDict((n, _T(refs[n], a.shape)) for n, a in tensors.items()))
    pickle.dump([r.key for r in refs.values()], buf, protocol=2)
    for a in tensors.values():
        buf.write(struct.pack("<q", a.size))
        buf.write(np.ascontiguousarray(a, dtype="<f4").tobytes())
    path.write_bytes(buf.getvalue())


def test_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    tensors = {"conv.weight": rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "bn.bias": np.arange(4.0)}
    _write_legacy(tmp_path / "w.pth", tensors, monkeypatch)
    got = pth_legacy.load_state_dict(tmp_path / "w.pth")
    assert list(got) == list(tensors)
    for name, a in tensors.items():
        np.testing.assert_array_equal(got[name], a.astype(np.float32))


def test_refuses_other_classes(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    path.write_bytes(
        pickle.dumps(pth_legacy.LEGACY_MAGIC, protocol=2) + pickle.dumps(1, 2) + pickle.dumps(Path("x"), 2)
    )
    with pytest.raises(pth_legacy.PthError, match="E_PTH_FORMAT"):
        pth_legacy.load_state_dict(path)


def test_refuses_zip_or_other_magic(tmp_path: Path) -> None:
    path = tmp_path / "new.pth"
    path.write_bytes(pickle.dumps(12345, protocol=2))
    with pytest.raises(pth_legacy.PthError, match="E_PTH_FORMAT"):
        pth_legacy.load_state_dict(path)
