"""RepositoryMgr and BrokerMgr: named repositories on remote file systems, and registered brokers."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dorisbk.background import start_periodic
from dorisbk.catalog.model import now_ms
from dorisbk.config import FrontendConfig
from dorisbk.errors import DorisError, StorageError
from dorisbk.meta.store import Change, MetaStore
from dorisbk.storage.filesystem import RemoteFileSystem, open_filesystem
from dorisbk.storage.layout import repo_dir
from dorisbk.storage.local import local_root
from dorisbk.storage.repository import Repository
from dorisbk.timeutil import long_to_time_string

SECRET_KEYS = (
    "s3.secret_key",
    "aws_secret_key",
    "s3.session_token",
    "aws_token",
    "password",
    "bos_secret_accesskey",
    "azure.account_key",
)
ALTERABLE_KEYS = ("s3.access_key", "s3.secret_key", "s3.session_token", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_TOKEN")


def is_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_KEYS or "secret" in lowered or "password" in lowered or "token" in lowered


def masked(props: Mapping[str, str]) -> dict[str, str]:
    return {k: ("*XXX" if is_secret(k) else v) for k, v in props.items()}


@dataclass
class RepoRecord:
    """What the frontend remembers of a repository."""

    id: int
    name: str
    type: str  # S3 / HDFS / LOCAL / BROKER / AZURE
    location: str
    properties: dict[str, str] = field(default_factory=dict)
    read_only: bool = False
    broker: str | None = None
    create_time: int = field(default_factory=now_ms)
    err_msg: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def storage_kind(self) -> str:
        """The file system a BROKER repository reaches through its location's scheme."""
        if self.type != "BROKER":
            return self.type
        scheme = self.location.split("://", 1)[0].lower()
        kinds = {"file": "LOCAL", "s3": "S3", "s3a": "S3", "hdfs": "HDFS"}
        if scheme not in kinds:
            raise DorisError(f"broker repository location scheme '{scheme}' is not supported")
        return kinds[scheme]


@dataclass
class Broker:
    id: int
    name: str
    host: str
    port: int
    added: int = field(default_factory=now_ms)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_location(kind: str, location: str) -> None:
    expected = {"LOCAL": ("file://",), "S3": ("s3://", "s3a://"), "HDFS": ("hdfs://",)}
    if kind in expected and not location.lower().startswith(expected[kind]):
        raise DorisError(f"Invalid location '{location}' for {kind} repository, expected {expected[kind][0]}...")
    if kind == "AZURE":
        raise DorisError("Failed to create repository: AZURE repositories are not supported by dorisbk")


def _within(path: Path, other: Path) -> bool:
    """Whether ``path`` is ``other`` or below it."""
    return path == other or other in path.parents


class RepositoryMgr:
    """Repositories and brokers, persisted as ``repository`` / ``broker`` rows."""

    def __init__(self, store: MetaStore) -> None:
        self.store = store
        self.lock = threading.RLock()
        self.records: dict[str, RepoRecord] = {}
        self.brokers: dict[int, Broker] = {}
        self._open: dict[str, Repository] = {}
        self.protected: list[Path] = []

    def protect(self, directory: Path) -> None:
        """A directory of the server (its data dir) that no LOCAL repository may overlap: a DROP SNAPSHOT
        there would delete the server's files, a BACKUP write among them."""
        self.protected.append(directory.resolve())

    def replay(self, rows: Iterable[tuple[str, int, dict]]) -> list[tuple[str, int, dict]]:
        rest = []
        for kind, _obj_id, body in rows:
            if kind == "repository":
                record = RepoRecord(**body)
                self.records[record.name] = record
            elif kind == "broker":
                broker = Broker(**body)
                self.brokers[broker.id] = broker
            else:
                rest.append((kind, _obj_id, body))
        return rest

    def apply(self, kind: str, obj_id: int, body: dict | None) -> bool:
        """Shared mode: a repository or broker row another node committed (None: deleted); the repository is
        connected again with its new properties when next used. False for other kinds."""
        if kind == "broker":
            with self.lock:
                if body is None:
                    self.brokers.pop(obj_id, None)
                else:
                    self.brokers[obj_id] = Broker(**body)
            return True
        if kind != "repository":
            return False
        with self.lock:
            for name in [n for n, r in self.records.items() if r.id == obj_id]:
                del self.records[name]
                self._open.pop(name, None)
            if body is not None:
                record = RepoRecord(**body)
                self.records[record.name] = record
                self._open.pop(record.name, None)
        return True

    # ---- repositories
    def create(
        self, name: str, kind: str, location: str, props: Mapping[str, str], read_only: bool, broker: str | None
    ) -> None:
        with self.lock:
            if name in self.records:
                raise DorisError(f"Repository {name} already exist")
            if broker is not None and not any(b.name == broker for b in self.brokers.values()):
                raise DorisError(f"broker does not exist: {broker}")
            props = dict(props)
            delete_if_exists = props.pop("delete_if_exists", "false").lower() == "true"
            record = RepoRecord(self.store.next_id(), name, kind, location, props, read_only, broker)
            _check_location(record.storage_kind, location)
            repo = self._connect(record)
            if record.storage_kind == "LOCAL":
                self._check_local_place(record)
            try:
                created = repo.init(delete_if_exists=delete_if_exists and record.storage_kind == "S3")
                repo.ping()
            except StorageError as exc:
                raise DorisError(f"Failed to create repository: {exc.message}") from None
            record.create_time = int(created.timestamp() * 1000)
            self.store.commit(Change().put("repository", record.id, record.to_dict()))
            self.records[name] = record
            self._open[name] = repo

    def alter(self, name: str, props: Mapping[str, str]) -> RepoRecord:
        with self.lock:
            record = self.record(name)
            if record.storage_kind != "S3":
                raise DorisError("Only support alter s3 or azure repository")
            unknown = [k for k in props if k not in ALTERABLE_KEYS]
            if unknown:
                raise DorisError(f"Only credentials can be altered: {', '.join(ALTERABLE_KEYS)}; not {unknown}")
            updated = dataclasses.replace(record, properties={**record.properties, **props})
            repo = self._connect(updated)
            try:
                repo.ping()
            except StorageError:
                raise DorisError("Repo can not ping with new s3 properties") from None
            self.store.commit(Change().put("repository", updated.id, updated.to_dict()))
            self.records[name] = updated
            current = self._open.get(name)
            if current is not None:
                current.fs.update_properties(updated.properties)
            else:
                self._open[name] = repo
            return updated

    def drop(self, name: str) -> None:
        with self.lock:
            record = self.record(name)
            self.store.commit(Change().delete("repository", record.id))
            del self.records[name]
            self._open.pop(name, None)

    def _check_local_place(self, record: RepoRecord) -> None:
        """Refuse a LOCAL location at ``/``, overlapping the server's data dir, or where the repository's
        directory (``<location>/__palo_repository_<name>``) and another LOCAL repository's overlap: each
        repository deletes freely below its own. Links in the location are resolved first."""

        def refuse(reason: str) -> DorisError:
            return DorisError(f"Invalid location '{record.location}' for LOCAL repository: {reason}")

        root = local_root(record.location).resolve()
        if root == Path(root.anchor):
            raise refuse("the root directory cannot hold a repository")
        for protected in self.protected:
            if _within(root, protected) or _within(protected, root):
                raise refuse(f"it overlaps the data dir of the server ({protected})")
        mine = root / repo_dir(record.name)
        for other in self.records.values():
            if other.storage_kind != "LOCAL":
                continue
            theirs = local_root(other.location).resolve()
            if _within(root, theirs / repo_dir(other.name)) or _within(theirs, mine):
                raise refuse(f"it overlaps repository {other.name} at '{other.location}'")

    def record(self, name: str) -> RepoRecord:
        found = self.records.get(name)
        if found is None:
            raise DorisError(f"Repository {name} does not exist")
        return found

    def by_id(self, repo_id: int) -> RepoRecord | None:
        return next((r for r in self.records.values() if r.id == repo_id), None)

    def repository(self, name: str) -> Repository:
        """The open Repository of a record (connected lazily after a restart)."""
        with self.lock:
            record = self.record(name)
            repo = self._open.get(name)
            if repo is None:
                repo = self._connect(record)
                self._open[name] = repo
            return repo

    def _connect(self, record: RepoRecord) -> Repository:
        try:
            fs: RemoteFileSystem = open_filesystem(record.storage_kind, record.location, record.properties)
            return Repository(fs, record.name)
        except StorageError as exc:
            raise DorisError(f"Failed to create repository: {exc.message}") from None

    def ping_all(self) -> None:
        """Check every repository is reachable; SHOW REPOSITORIES shows the failure in ErrMsg."""
        with self.lock:
            names = list(self.records)
        for name in names:
            try:
                self.repository(name).ping()
                error = None
            except (StorageError, DorisError) as exc:
                error = f"{long_to_time_string(now_ms())}: {exc.message}"
            with self.lock:
                record = self.records.get(name)
                if record is not None:
                    record.err_msg = error

    def start_pinger(self, config: FrontendConfig, stop: threading.Event) -> None:
        """Ping repositories in the background every ``repository_ping_interval_ms`` until ``stop`` is set."""
        start_periodic(
            "repositoryPinger", stop, lambda: config.int("repository_ping_interval_ms") / 1000.0, self.ping_all
        )

    # ---- brokers
    def add_broker(self, name: str, addresses: Iterable[str]) -> None:
        with self.lock:
            new = []
            for address in addresses:
                host, _, port = address.rpartition(":")
                if not host or not port.isdigit():
                    raise DorisError(f"Invalid broker address: {address}, expected host:port")
                if any(b.name == name and b.host == host and b.port == int(port) for b in self.brokers.values()):
                    raise DorisError(f"Broker[{name}:{address}] has already in brokers.")
                new.append(Broker(self.store.next_id(), name, host, int(port)))
            change = Change()
            for broker in new:
                change.put("broker", broker.id, broker.to_dict())
            self.store.commit(change)
            self.brokers.update({b.id: b for b in new})

    def drop_broker(self, name: str, addresses: Iterable[str], drop_all: bool) -> None:
        with self.lock:
            mine = [b for b in self.brokers.values() if b.name == name]
            if not mine:
                raise DorisError(f"Unknown broker name({name})")
            if drop_all:
                doomed = mine
            else:
                doomed = []
                for address in addresses:
                    host, _, port = address.rpartition(":")
                    match = next((b for b in mine if b.host == host and str(b.port) == port), None)
                    if match is None:
                        raise DorisError(f"Broker[{name}:{address}] has not in brokers.")
                    doomed.append(match)
            change = Change()
            for broker in doomed:
                change.delete("broker", broker.id)
            self.store.commit(change)
            for broker in doomed:
                del self.brokers[broker.id]
