"""A repository in an S3 bucket (AWS or any S3-compatible server): object bytes go through obstore (Rust
object_store), listing, stat, delete and server-side copy through boto3."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import obstore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from obstore import exceptions as obstore_errors
from obstore.auth.boto3 import Boto3CredentialProvider
from obstore.store import S3Store

from dorisbk.errors import StorageError
from dorisbk.storage.filesystem import (
    NotFoundError,
    RemoteFile,
    RemoteFileSystem,
    atomic_local_file,
    clean_path,
    clean_prefix,
)
from dorisbk.storage.layout import is_name

MiB = 1024 * 1024
# Files over this size are uploaded in parts of this size, several at a time (obstore), and server-side
# copies of big objects go by the transfer manager's multipart copy (boto3).
MULTIPART_THRESHOLD = 8 * MiB
UPLOAD_CONCURRENCY = 4
# what a server answers a CopyObject whose source is over the single-request limit (5 GiB on AWS)
COPY_TOO_LARGE_CODES = frozenset({"InvalidRequest", "EntityTooLarge"})
TRANSFER = TransferConfig(
    multipart_threshold=MULTIPART_THRESHOLD,
    multipart_chunksize=8 * MiB,
    max_concurrency=4,
    use_threads=True,
)
STREAM_CHUNK = 1 * MiB  # a download's bytes are hashed and written a chunk of about this size at a time

# Current property names first, then the ones older Doris releases accepted.
PROPERTY_NAMES: dict[str, tuple[str, ...]] = {
    "endpoint": ("s3.endpoint", "AWS_ENDPOINT"),
    "region": ("s3.region", "AWS_REGION"),
    "access_key": ("s3.access_key", "AWS_ACCESS_KEY"),
    "secret_key": ("s3.secret_key", "AWS_SECRET_KEY"),
    "session_token": ("s3.session_token", "AWS_TOKEN"),
    "path_style": ("use_path_style",),
    "max_connections": ("s3.connection.maximum", "AWS_MAX_CONNECTIONS"),
    "request_timeout_ms": ("s3.connection.request.timeout", "AWS_REQUEST_TIMEOUT_MS"),
    "connection_timeout_ms": ("s3.connection.timeout", "AWS_CONNECTION_TIMEOUT_MS"),
}
# Doris's defaults for the properties above (milliseconds).
DEFAULT_MAX_CONNECTIONS = 50
DEFAULT_REQUEST_TIMEOUT_MS = 10_000
DEFAULT_CONNECTION_TIMEOUT_MS = 10_000
# Attempts per request, the first included. Throttling (503 SlowDown) and transient errors
# (500, resets, timeouts) are retried with jittered exponential backoff (botocore "standard"
# mode: 50 ms base, 1 s base when throttled), as Doris's BE retries S3 calls up to 10 times;
# a storage that keeps failing still fails a request within seconds, not hours.
MAX_ATTEMPTS = 8
# the longest one request of obstore's (a part's or a whole object's bytes) may take, retries apart
REQUEST_DEADLINE = timedelta(hours=1)
NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}
DENIED_CODES = {
    "403",
    "AccessDenied",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
}


def _setting(properties: Mapping[str, str], key: str) -> str | None:
    for name in PROPERTY_NAMES[key]:
        if value := properties.get(name):
            return value
    return None


def _endpoint_url(properties: Mapping[str, str]) -> str | None:
    """The endpoint as a URL; Doris users often leave out the scheme, which then is http."""
    endpoint = _setting(properties, "endpoint")
    if endpoint and "://" not in endpoint:
        return f"http://{endpoint}"
    return endpoint


def _positive_int(properties: Mapping[str, str], key: str, default: int) -> int:
    value = _setting(properties, key)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise StorageError(f"invalid S3 repository property {PROPERTY_NAMES[key][0]}: '{value}'")
    return number


def _make_client(properties: Mapping[str, str]) -> Any:
    """A client whose every call is bounded: connect and read timeouts per attempt, a fixed number of attempts."""
    path_style = (_setting(properties, "path_style") or "false").lower() == "true"
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if path_style else "auto"},
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        connect_timeout=_positive_int(properties, "connection_timeout_ms", DEFAULT_CONNECTION_TIMEOUT_MS) / 1000,
        read_timeout=_positive_int(properties, "request_timeout_ms", DEFAULT_REQUEST_TIMEOUT_MS) / 1000,
        max_pool_connections=_positive_int(properties, "max_connections", DEFAULT_MAX_CONNECTIONS),
        # Repository files carry their own md5; the newer CRC headers break several S3 clones.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    try:
        return boto3.session.Session().client(
            "s3",
            endpoint_url=_endpoint_url(properties),
            region_name=_setting(properties, "region") or "us-east-1",
            aws_access_key_id=_setting(properties, "access_key"),
            aws_secret_access_key=_setting(properties, "secret_key"),
            aws_session_token=_setting(properties, "session_token"),
            config=config,
        )
    except (BotoCoreError, ValueError) as e:
        raise StorageError(f"invalid S3 repository properties: {e}") from e


def _virtual_host_endpoint(endpoint: str, bucket: str) -> str | None:
    """The endpoint with the bucket in its host name, as boto3's "auto" addressing uses it; None where boto3
    falls back to path style: an IP address or ``localhost`` host, or a bucket name no host name can hold."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if host == "localhost" or not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", bucket):
        return None
    return f"{parts.scheme}://{bucket}.{parts.netloc}{parts.path}".rstrip("/")


def _make_store(bucket: str, properties: Mapping[str, str]) -> S3Store | None:
    """The obstore store that moves object bytes, bounded like ``_make_client``'s client: connect and read
    timeouts per attempt, at most ``MAX_ATTEMPTS`` attempts with jittered exponential backoff."""
    endpoint = _endpoint_url(properties)
    path_style = (_setting(properties, "path_style") or "false").lower() == "true"
    config: dict[str, Any] = {"region": _setting(properties, "region") or "us-east-1"}
    if endpoint:
        hosted = None if path_style else _virtual_host_endpoint(endpoint, bucket)
        config["endpoint"] = hosted or endpoint.rstrip("/")
        config["virtual_hosted_style_request"] = hosted is not None
    else:
        config["virtual_hosted_style_request"] = not path_style
    provider: Boto3CredentialProvider | None = None
    if _setting(properties, "access_key"):
        for key, name in (("access_key", "access_key_id"), ("secret_key", "secret_access_key")):
            config[name] = _setting(properties, key) or ""
        if token := _setting(properties, "session_token"):
            config["session_token"] = token
    else:
        # no keys in the properties: boto3's credential chain (environment, ~/.aws, instance roles), as the client
        try:
            provider = Boto3CredentialProvider(boto3.session.Session())
        except ValueError:
            return None  # no credentials anywhere: each transfer fails as boto3's requests do
    connect_ms = _positive_int(properties, "connection_timeout_ms", DEFAULT_CONNECTION_TIMEOUT_MS)
    read_ms = _positive_int(properties, "request_timeout_ms", DEFAULT_REQUEST_TIMEOUT_MS)
    client_options: dict[str, Any] = {
        "allow_http": bool(endpoint and endpoint.lower().startswith("http://")),
        "connect_timeout": timedelta(milliseconds=connect_ms),
        # a stalled connection (no byte within the request timeout) fails the attempt, as boto3's read timeout
        "read_timeout": timedelta(milliseconds=read_ms),
        # the whole of one request, body included: a bound for a big object on a slow link, not a speed
        "timeout": REQUEST_DEADLINE,
    }
    retry_config: dict[str, Any] = {
        "max_retries": MAX_ATTEMPTS - 1,
        "backoff": {"init_backoff": timedelta(milliseconds=50), "max_backoff": timedelta(seconds=20), "base": 2},
        "retry_timeout": timedelta(minutes=3),
    }
    try:
        return S3Store(
            bucket,
            config=config,  # type: ignore[arg-type]
            client_options=client_options,  # type: ignore[arg-type]
            retry_config=retry_config,  # type: ignore[arg-type]
            credential_provider=provider,
        )
    except (obstore_errors.BaseError, ValueError) as e:
        raise StorageError(f"invalid S3 repository properties: {e}") from e


def _s3_error(text: str) -> tuple[str, str]:
    """The S3 error code and message of an obstore error's text (which quotes the response body), or ("", "")."""
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    return (code.group(1) if code else "", message.group(1) if message else "")


@dataclass(frozen=True)
class StoredObject:
    """An object found by ``pages``: its path below the location, size, and last change (seconds since the
    epoch, by the S3 server's clock)."""

    path: str
    size: int
    modified: float


class S3FileSystem(RemoteFileSystem):
    """Objects under ``s3://bucket/prefix``; "directories" are key prefixes ending in ``/``."""

    kind = "S3"

    def __init__(self, location: str, properties: Mapping[str, str]) -> None:
        parts = urlsplit(location)
        if parts.scheme != "s3" or not parts.netloc:
            raise StorageError(f"invalid S3 location '{location}': expected s3://bucket/prefix")
        self.location = location
        self.bucket = parts.netloc
        prefix = clean_prefix(parts.path).rstrip("/")
        self._root = f"{prefix}/" if prefix else ""
        self._properties = dict(properties)
        self._client = _make_client(self._properties)
        self._store = _make_store(self.bucket, self._properties)

    @property
    def endpoint(self) -> str:
        return _endpoint_url(self._properties) or "AWS S3"

    def update_properties(self, properties: Mapping[str, str]) -> None:
        """Merge rotated credentials; operations started afterwards use them (ALTER REPOSITORY).

        A new value replaces every spelling of the same setting, old ``AWS_*`` names included.
        """
        merged = dict(self._properties)
        for names in PROPERTY_NAMES.values():
            if any(name in properties for name in names):
                for name in names:
                    merged.pop(name, None)
        merged.update(properties)
        client, store = _make_client(merged), _make_store(self.bucket, merged)
        self._properties, self._client, self._store = merged, client, store

    def _key(self, path: str) -> str:
        return self._root + clean_path(path)

    def _response_error(self, action: str, code: str, message: str) -> StorageError:
        """The error for an S3 error code a response gave (to boto3 or obstore), naming what a user can fix."""
        where = f"s3://{self.bucket} at {self.endpoint}"
        if code in NOT_FOUND_CODES:
            return NotFoundError(f"failed to {action}: file does not exist")
        if code == "NoSuchBucket":
            return StorageError(f"failed to {action}: bucket {self.bucket} does not exist at {self.endpoint}")
        if code in DENIED_CODES:
            return self._denied_error(action, code, message)
        return StorageError(f"failed to {action} on {where}: {code}: {message}")

    def _denied_error(self, action: str, code: str, message: str) -> StorageError:
        return StorageError(
            f"failed to {action}: access denied by s3://{self.bucket} at {self.endpoint} ({code}: {message}); "
            "check s3.access_key, s3.secret_key and s3.session_token"
        )

    def _timeout_error(self, action: str, detail: object) -> StorageError:
        wait_ms = _positive_int(self._properties, "request_timeout_ms", DEFAULT_REQUEST_TIMEOUT_MS)
        return StorageError(
            f"failed to {action}: S3 endpoint {self.endpoint} did not answer within {wait_ms} ms "
            f"(s3.connection.request.timeout), {MAX_ATTEMPTS} attempts: {detail}"
        )

    def _connect_error(self, action: str, detail: object) -> StorageError:
        return StorageError(f"failed to {action}: cannot connect to S3 endpoint {self.endpoint}: {detail}")

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn boto3 failures into StorageError messages that name the cause a user can fix."""
        try:
            yield
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            message = e.response.get("Error", {}).get("Message") or code
            raise self._response_error(action, code, message) from e
        except ReadTimeoutError as e:
            raise self._timeout_error(action, e) from e
        except (EndpointConnectionError, ConnectTimeoutError) as e:
            raise self._connect_error(action, e) from e
        except NoCredentialsError as e:
            raise StorageError(f"failed to {action}: no S3 credentials; set s3.access_key and s3.secret_key") from e
        except BotoCoreError as e:
            raise StorageError(f"failed to {action} on s3://{self.bucket} at {self.endpoint}: {e}") from e

    def _objects(self, key_prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=key_prefix):
            yield from page.get("Contents", [])

    def list(self, prefix: str = "") -> list[RemoteFile]:
        """Keys are any strings: one whose parts are not all plain names (``a/../b``, ``a//b``, a folder
        marker ``a/``) is left out."""
        key_prefix = self._root + clean_prefix(prefix)
        with self._errors(f"list {key_prefix}"):
            found = [RemoteFile(obj["Key"][len(self._root) :], obj["Size"]) for obj in self._objects(key_prefix)]
        return sorted((f for f in found if all(map(is_name, f.path.split("/")))), key=lambda f: f.path)

    def list_dirs(self, path: str = "") -> list[str]:
        """Common prefixes that hold at least one object: some servers (SeaweedFS) and tools that
        make "folder" markers keep prefixes alive after their last object is deleted."""
        directory = clean_prefix(path).rstrip("/")
        key_prefix = self._root + (f"{directory}/" if directory else "")
        with self._errors(f"list {key_prefix}"):
            prefixes: list[str] = []
            for page in self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=key_prefix, Delimiter="/"
            ):
                prefixes.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
            names = [p[len(key_prefix) :].rstrip("/") for p in prefixes if self._holds_files(p)]
        return sorted(name for name in names if is_name(name))

    def _holds_files(self, key_prefix: str) -> bool:
        return any(not obj["Key"].endswith("/") for obj in self._objects(key_prefix))

    def exists(self, path: str) -> bool:
        try:
            self.etag(path)
        except NotFoundError:
            return False
        return True

    def etag(self, path: str) -> str:
        """The object's ETag from head_object (some servers return none from multipart completion)."""
        key = self._key(path)
        with self._errors(f"stat {key}"):
            return str(self._client.head_object(Bucket=self.bucket, Key=key)["ETag"]).strip('"')

    def _object_store(self, action: str) -> S3Store:
        if self._store is None:
            raise StorageError(f"failed to {action}: no S3 credentials; set s3.access_key and s3.secret_key")
        return self._store

    @contextmanager
    def _store_errors(self, action: str) -> Iterator[None]:
        """Turn obstore failures into the StorageError messages ``_errors`` gives boto3's."""
        where = f"s3://{self.bucket} at {self.endpoint}"
        try:
            yield
        except (FileNotFoundError, obstore_errors.BaseError) as e:
            text = str(e)
            code, message = _s3_error(text)
            if code == "NoSuchBucket":
                raise self._response_error(action, code, message or code) from e
            # obstore raises the builtin FileNotFoundError for a missing object (its NotFoundError is deprecated)
            if isinstance(e, (FileNotFoundError, obstore_errors.NotFoundError)) or code in NOT_FOUND_CODES:
                raise NotFoundError(f"failed to {action}: file does not exist") from e
            if code in DENIED_CODES or isinstance(
                e, (obstore_errors.PermissionDeniedError, obstore_errors.UnauthenticatedError)
            ):
                code = code or ("AccessDenied" if isinstance(e, obstore_errors.PermissionDeniedError) else "403")
                raise self._denied_error(action, code, message or code) from e
            if code:
                raise self._response_error(action, code, message or code) from e
            head, _, debug = text.partition("Debug source:")
            detail = " ".join(head.split())[:1000]
            if "kind: Connect" in debug or "tcp connect error" in debug or "dns error" in debug:
                cause = re.findall(r'message: "([^"]*)"', debug)
                detail += f" ({cause[-1]})" if cause else ""
                raise self._connect_error(action, detail) from e
            if "kind: Timeout" in debug or "TimedOut" in debug:
                raise self._timeout_error(action, detail) from e
            raise StorageError(f"failed to {action} on {where}: {detail}") from e

    def upload(self, local_path: str | Path, remote_path: str) -> None:
        """One PUT for a file up to ``MULTIPART_THRESHOLD``, else a multipart upload of parts that size, a few at
        a time; the file is read a part at a time."""
        key = self._key(remote_path)
        try:
            os.stat(local_path)  # a missing local file is not a missing object (both are FileNotFoundError)
        except OSError as e:
            raise StorageError(f"failed to upload {local_path}: {e}") from e
        action = f"upload {local_path} to {key}"
        with self._store_errors(action):
            obstore.put(
                self._object_store(action),
                key,
                Path(local_path),
                chunk_size=MULTIPART_THRESHOLD,
                max_concurrency=UPLOAD_CONCURRENCY,
            )

    def download(self, remote_path: str, local_path: str | Path) -> str:
        """Stream the object in one GET, hashing the bytes as they are written; returns their md5."""
        key = self._key(remote_path)
        action = f"download {key}"
        with self._store_errors(action):
            response = obstore.get(self._object_store(action), key)
            digest = hashlib.md5(usedforsecurity=False)
            try:
                with atomic_local_file(local_path) as tmp, open(tmp, "wb") as out:
                    for chunk in response.stream(min_chunk_size=STREAM_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            except OSError as e:
                raise StorageError(f"failed to download {key} to {local_path}: {e}") from e
            return digest.hexdigest()

    def put_bytes(self, remote_path: str, data: bytes) -> None:
        key = self._key(remote_path)
        action = f"write {key}"
        with self._store_errors(action):
            obstore.put(
                self._object_store(action),
                key,
                data,
                chunk_size=MULTIPART_THRESHOLD,
                max_concurrency=UPLOAD_CONCURRENCY,
            )

    def get_bytes(self, remote_path: str) -> bytes:
        key = self._key(remote_path)
        action = f"read {key}"
        with self._store_errors(action):
            return bytes(obstore.get(self._object_store(action), key).bytes())

    def delete(self, path: str) -> None:
        key = self._key(path)
        with self._errors(f"delete {key}"):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        key_prefix = self._root + clean_prefix(prefix)
        with self._errors(f"delete {key_prefix}*"):
            # Folder markers (keys ending in "/") go too, but only files are counted.
            keys = [obj["Key"] for obj in self._objects(key_prefix)]
            self._delete_keys(keys, f"under {key_prefix}")
        return sum(1 for key in keys if not key.endswith("/"))

    def delete_many(self, paths: Sequence[str]) -> None:
        """Delete the files ``paths`` (below the location), up to 1,000 per request; a missing one is no error."""
        keys = [self._key(path) for path in paths]
        with self._errors(f"delete {len(keys)} objects in s3://{self.bucket}/{self._root}"):
            self._delete_keys(keys, f"in s3://{self.bucket}/{self._root}")

    def _delete_keys(self, keys: Sequence[str], where: str) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            response = self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            if errors := response.get("Errors"):
                first = errors[0]
                raise StorageError(
                    f"failed to delete {len(errors)} objects {where}, "
                    f"first {first.get('Key')}: {first.get('Code')}: {first.get('Message')}"
                )

    def pages(self, prefix: str = "") -> Iterator[list[StoredObject]]:
        """The files under ``prefix`` a listing page (at most 1,000) at a time, in key order, with their
        times: a listing of millions of objects is never held at once. Keys whose parts are not all plain
        names are left out, as ``list`` leaves them."""
        key_prefix = self._root + clean_prefix(prefix)
        paginator = self._client.get_paginator("list_objects_v2")
        with self._errors(f"list {key_prefix}"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=key_prefix):
                found = [
                    StoredObject(obj["Key"][len(self._root) :], obj["Size"], obj["LastModified"].timestamp())
                    for obj in page.get("Contents", [])
                ]
                yield [f for f in found if all(map(is_name, f.path.split("/")))]

    def rename(self, src: str, dst: str) -> None:
        """S3 has no rename: a server-side copy, then a delete of the source."""
        self.copy(src, dst)
        if self._key(src) != self._key(dst):
            self.delete(src)

    def copy(self, src: str, dst: str) -> None:
        """CopyObject on the server (multipart copy for big objects); no bytes pass through here."""
        source, target = self._key(src), self._key(dst)
        if source == target:
            if not self.exists(src):
                raise NotFoundError(f"failed to copy {source}: file does not exist")
            return
        with self._errors(f"copy {source} to {target}"):
            self._server_copy(self.bucket, source, target)

    def same_endpoint(self, other: RemoteFileSystem) -> bool:
        """Whether ``other`` is an S3 location on this one's endpoint, so that a copy between them can be done
        by the server (``copy_from``): no bytes through this process."""
        return isinstance(other, S3FileSystem) and other.endpoint == self.endpoint

    def copy_from(self, source: S3FileSystem, src: str, dst: str) -> str:
        """A server-side copy of ``src`` of another location on the same endpoint (``same_endpoint``) to ``dst``
        here, with this location's credentials, which must read the source; returns the copy's ETag ("" when
        the server gave none)."""
        source_key, target = source._key(src), self._key(dst)
        with self._errors(f"copy s3://{source.bucket}/{source_key} to {target}"):
            return self._server_copy(source.bucket, source_key, target)

    def _server_copy(self, bucket: str, source_key: str, target: str) -> str:
        """One CopyObject request; a source over its 5 GiB limit goes by the transfer manager's multipart copy,
        which first asks the source's size (a HEAD) and sets up a transfer manager of its own: a cost per
        object that made a backup of 256 small rowsets by server-side copy take seconds."""
        try:
            response = self._client.copy_object(
                CopySource={"Bucket": bucket, "Key": source_key}, Bucket=self.bucket, Key=target
            )
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) not in COPY_TOO_LARGE_CODES:
                raise
            self._client.copy({"Bucket": bucket, "Key": source_key}, self.bucket, target, Config=TRANSFER)
            return ""
        return str(response.get("CopyObjectResult", {}).get("ETag", "")).strip('"')

    def ping(self) -> None:
        with self._errors(f"list {self.location}"):
            self._client.list_objects_v2(Bucket=self.bucket, Prefix=self._root, MaxKeys=1)
