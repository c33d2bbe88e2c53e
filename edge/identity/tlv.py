"""BER-TLV as used by ICAO 9303 and ISO 7816-4: tags of one or more bytes, definite lengths of up to 4 bytes.

Every malformed input raises ``TlvError``; nothing else escapes from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from edge.errors import ExamGateError

MAX_LENGTH_OCTETS = 4


class TlvError(ExamGateError):
    code = "E_CHIP_DATA_MALFORMED"
    remedy = (
        "the card answered data that does not parse; tap the card again, and if it repeats send the card for checking"
    )


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    constructed: bool

    def children(self) -> list[Tlv]:
        if not self.constructed:
            raise TlvError(f"tag {self.tag:X} is primitive and has no children")
        return list(iter_tlv(self.value))

    def find(self, tag: int) -> Tlv | None:
        """First direct child with ``tag``."""
        for child in self.children():
            if child.tag == tag:
                return child
        return None

    def require(self, tag: int) -> Tlv:
        child = self.find(tag)
        if child is None:
            raise TlvError(f"tag {tag:X} missing inside {self.tag:X}")
        return child


def _read_tag(data: bytes, pos: int) -> tuple[int, bool, int]:
    if pos >= len(data):
        raise TlvError(f"expected a tag at offset {pos}, data ends")
    first = data[pos]
    constructed = bool(first & 0x20)
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        for _ in range(3):
            if pos >= len(data):
                raise TlvError("multi-byte tag runs past the end of the data")
            byte = data[pos]
            tag = (tag << 8) | byte
            pos += 1
            if not byte & 0x80:
                break
        else:
            raise TlvError("tag longer than 4 bytes")
    return tag, constructed, pos


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError(f"expected a length at offset {pos}, data ends")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0:
        raise TlvError("indefinite length is not allowed in ICAO 9303 data")
    if count > MAX_LENGTH_OCTETS:
        raise TlvError(f"length field of {count} octets is not supported (max {MAX_LENGTH_OCTETS})")
    if pos + count > len(data):
        raise TlvError("length field runs past the end of the data")
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def decode_header(data: bytes, offset: int = 0) -> tuple[int, bool, int, int]:
    """Return (tag, constructed, value_offset, value_length) without requiring the value to be present.

    Useful to learn a file's total size from its first bytes.
    """
    tag, constructed, pos = _read_tag(data, offset)
    length, pos = _read_length(data, pos)
    return tag, constructed, pos, length


def decode_one(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """Decode the TLV at ``offset``; return it and the offset just past it."""
    tag, constructed, pos, length = decode_header(data, offset)
    end = pos + length
    if end > len(data):
        raise TlvError(f"tag {tag:X} claims {length} bytes but only {len(data) - pos} remain")
    return Tlv(tag, bytes(data[pos:end]), constructed), end


def decode(data: bytes) -> Tlv:
    """Decode exactly one TLV that spans ``data`` (trailing padding of 0x00/0xFF is tolerated)."""
    tlv, end = decode_one(data)
    rest = data[end:]
    if rest.strip(b"\x00\xff"):
        raise TlvError(f"{len(rest)} unexpected bytes after tag {tlv.tag:X}")
    return tlv


def iter_tlv(data: bytes) -> Iterator[Tlv]:
    pos = 0
    while pos < len(data):
        tlv, pos = decode_one(data, pos)
        yield tlv


def encode_length(length: int) -> bytes:
    if length < 0:
        raise TlvError("negative length")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(body) > MAX_LENGTH_OCTETS:
        raise TlvError("value too long to encode")
    return bytes([0x80 | len(body)]) + body


def encode_tag(tag: int) -> bytes:
    if tag < 0:
        raise TlvError("negative tag")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode(tag: int, value: bytes) -> bytes:
    return encode_tag(tag) + encode_length(len(value)) + value
