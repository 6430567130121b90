"""The glTF 2.0 binary container (``.glb``): one buffer with its views and accessors, packed
with the JSON document into the two chunks of a GLB file, and read back.

Only what vidmimic's exports use: tightly packed arrays, little-endian, buffer 0 = the BIN chunk.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from characters.errors import input_error

FLOAT, UNSIGNED_BYTE, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5121, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
_DTYPES = {FLOAT: np.float32, UNSIGNED_BYTE: np.uint8, UNSIGNED_SHORT: np.uint16, UNSIGNED_INT: np.uint32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_MAGIC, _JSON, _BIN = 0x46546C67, 0x4E4F534A, 0x004E4942


class BufferBuilder:
    """Accumulates one binary buffer with its buffer views and accessors (one view per accessor)."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, array: np.ndarray, kind: str, component: int, target: int | None = None, bounds: bool = False) -> int:
        """Append ``array`` (``(count, width)`` or ``(count,)``) as an accessor of ``kind``
        (``"SCALAR"``, ``"VEC3"``, ``"MAT4"`` ...); returns the accessor's index."""
        data = np.ascontiguousarray(array, dtype=_DTYPES[component])
        count = data.size // _WIDTH[kind]
        assert data.size == count * _WIDTH[kind], f"{data.shape} does not hold whole {kind} elements"
        while len(self.blob) % 4:
            self.blob.append(0)
        view = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": data.nbytes}
        if target is not None:
            view["target"] = target
        self.blob += data.tobytes()
        self.views.append(view)
        accessor = {"bufferView": len(self.views) - 1, "componentType": component, "count": int(count), "type": kind}
        if bounds:
            flat = data.reshape(count, -1)
            cast = float if component == FLOAT else int
            accessor["min"] = [cast(v) for v in flat.min(axis=0)]
            accessor["max"] = [cast(v) for v in flat.max(axis=0)]
        self.accessors.append(accessor)
        return len(self.accessors) - 1


def pack_glb(doc: dict, builder: BufferBuilder) -> bytes:
    """The GLB bytes of JSON document ``doc`` (its ``accessors``, ``bufferViews`` and ``buffers``
    are set from ``builder``)."""
    blob = bytes(builder.blob) + b"\0" * (-len(builder.blob) % 4)
    doc = dict(doc, accessors=builder.accessors, bufferViews=builder.views, buffers=[{"byteLength": len(blob)}])
    text = json.dumps(doc, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + len(blob)
    return struct.pack("<III", _MAGIC, 2, total) + struct.pack("<II", len(text), _JSON) + text + struct.pack("<II", len(blob), _BIN) + blob


def read_glb(path: str | Path) -> tuple[dict, bytes]:
    """The JSON document and the BIN chunk of a GLB file; :class:`InputError` if it is not one."""
    data = Path(path).read_bytes()
    if len(data) < 20 or struct.unpack_from("<I", data, 0)[0] != _MAGIC:
        raise input_error(path, "not a GLB file (no glTF magic)")
    json_len, kind = struct.unpack_from("<II", data, 12)
    if kind != _JSON or 20 + json_len > len(data):
        raise input_error(path, "GLB file without a valid JSON chunk")
    doc = json.loads(data[20 : 20 + json_len])
    rest = data[20 + json_len :]
    blob = rest[8 : 8 + struct.unpack_from("<I", rest, 0)[0]] if len(rest) >= 8 else b""
    return doc, blob


def accessor_array(doc: dict, blob: bytes, index: int) -> np.ndarray:
    """Accessor ``index`` as an array ``(count, width)`` (``(count,)`` for scalars); tightly packed views only."""
    accessor = doc["accessors"][index]
    view = doc["bufferViews"][accessor["bufferView"]]
    dtype = np.dtype(_DTYPES[accessor["componentType"]])
    width = _WIDTH[accessor["type"]]
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    values = np.frombuffer(blob, dtype=dtype, count=accessor["count"] * width, offset=start)
    return values if width == 1 else values.reshape(accessor["count"], width)
