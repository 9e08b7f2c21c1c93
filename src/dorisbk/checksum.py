"""MD5 checksums of files, streamed in chunks so multi-GB files take little memory."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

CHUNK = 4 * 1024 * 1024


def md5_file(path: str | Path) -> str:
    with open(path, "rb") as fh:
        return md5_stream(fh)


def md5_stream(fh: BinaryIO) -> str:
    """The md5 of what is left to read in ``fh``."""
    digest = hashlib.md5(usedforsecurity=False)
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
