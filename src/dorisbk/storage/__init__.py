"""Remote file systems (local, S3, HDFS) and the Doris repository layout above them."""

from dorisbk.storage.filesystem import NotFoundError, RemoteFile, RemoteFileSystem, open_filesystem
from dorisbk.storage.repository import (
    ChecksumMismatchError,
    NoInfoFileError,
    Repository,
    UploadResult,
)

__all__ = [
    "ChecksumMismatchError",
    "NoInfoFileError",
    "NotFoundError",
    "RemoteFile",
    "RemoteFileSystem",
    "Repository",
    "UploadResult",
    "open_filesystem",
]
