"""Placeholder article images: small solid-colour PNGs made with the standard library."""

from __future__ import annotations

import hashlib
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid RGB PNG of one colour."""
    row = b"\x00" + bytes(rgb) * width  # filter byte 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * height, 9))
        + _chunk(b"IEND", b"")
    )


def placeholder_image(key: str) -> bytes:
    """A 16:9 muted-colour PNG whose colour is derived from `key`."""
    digest = hashlib.sha256(key.encode()).digest()
    rgb = (60 + digest[0] % 140, 60 + digest[1] % 140, 60 + digest[2] % 140)
    return solid_png(320, 180, rgb)
