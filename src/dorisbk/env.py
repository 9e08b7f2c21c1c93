"""Env: the one frontend instance (Doris's ``Env``) that owns the store, catalog, users and backends."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dorisbk import memory
from dorisbk.auth.users import UserManager
from dorisbk.backend import duck
from dorisbk.backend.compaction import Compactor
from dorisbk.backend.tablet_store import OrphanSweep, SharedData, TabletStore
from dorisbk.backend.tasks import TaskExecutor
from dorisbk.backend.transactions import LoadTransactionMgr
from dorisbk.background import start_periodic
from dorisbk.catalog import recycle_bin
from dorisbk.catalog.catalog import Catalog
from dorisbk.catalog.dynamic_scheduler import DynamicPartitionScheduler
from dorisbk.catalog.model import Tablet, now_ms
from dorisbk.config import FrontendConfig
from dorisbk.engine import macros
from dorisbk.engine.query import QueryEngine
from dorisbk.errors import DorisError
from dorisbk.jobs.abstract_job import AbstractJob
from dorisbk.jobs.context import JobContext
from dorisbk.jobs.handler import BackupHandler
from dorisbk.jobs.job_lease import JobLeases
from dorisbk.jobs.job_scheduler import JobManager
from dorisbk.jobs.repositories import RepositoryMgr
from dorisbk.jobs.snapshot_scan import CACHE_KNOB, SnapshotScanner
from dorisbk.jobs.snapshot_ttl import SnapshotTtlDaemon
from dorisbk.jobs.vault_gc import GRACE_KNOB, INTERVAL_KNOB, VaultCollector
from dorisbk.meta.journal import JournalEntry, JournalFollower
from dorisbk.meta.store import Change, MetaStore
from dorisbk.metrics import EndedJob, FrontendMetrics
from dorisbk.storage.file_cache import FileCache
from dorisbk.storage.vault import StorageVault, vault_location

log = logging.getLogger(__name__)
GLOBAL_VARIABLES_KIND = "global_variables"
FILE_CACHE_KNOB = "file_cache_capacity_bytes"
SHARED_META_SCHEMES = ("postgresql",)  # shared mode's metadata: one PostgreSQL for every node


class LiveSession(Protocol):
    """What the front door reads of a client connection (server/session.py's DorisSession): SHOW
    PROCESSLIST's row and, for information_schema, the session's variables."""

    @property
    def connection_id(self) -> int: ...

    @property
    def variables(self) -> Any: ...

    def process_row(self, full: bool) -> tuple[Any, ...] | None: ...


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 9030
    http_port: int = 8030  # Doris's http_port: the status pages, REST API and /metrics; 0: none
    data_dir: Path = Path("dorisbk-data")
    backends: int = 1
    meta_url: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    log_dir: Path | None = None  # where fe.audit.log goes; None: <data_dir>/log
    storage_url: str | None = None  # shared mode: the storage vault, s3://bucket/prefix
    storage_properties: dict[str, str] = field(default_factory=dict)  # its S3 properties (endpoint, keys)
    node_name: str = ""  # this node's name in a shared cluster; empty: f"{host}:{port}"

    @property
    def shared(self) -> bool:
        """Shared mode: data in the storage vault, metadata in PostgreSQL, several nodes over both."""
        return self.storage_url is not None

    def check_shared(self) -> None:
        """Shared mode needs PostgreSQL for the metadata and an S3 location the repository's rules accept."""
        if not self.shared:
            return
        scheme = (self.meta_url or "").split(":", 1)[0].split("+", 1)[0].lower()
        if scheme not in SHARED_META_SCHEMES:
            raise DorisError("shared mode (--storage) needs a PostgreSQL --meta-url: postgresql+psycopg://...")
        vault_location(self.storage_url or "")

    def resolved_node_name(self) -> str:
        return self.node_name or f"{self.host}:{self.port}"

    def resolved_meta_url(self) -> str:
        return self.meta_url or f"sqlite:///{(self.data_dir / 'meta.db').resolve()}"

    def resolved_log_dir(self) -> Path:
        return self.log_dir or self.data_dir / "log"


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector off while the start makes the catalog's objects: they are all kept, so
    its passes over the growing heap only cost time (half of replaying 300,000 tablets; bench/scale.py); then
    they are frozen out of its later passes (dorisbk/memory.py)."""
    with memory.no_cyclic_gc():
        try:
            yield
        finally:
            memory.freeze()
            memory.watch_gc()


class Env:
    """Builds and replays every component from the metadata store, in dependency order."""

    def __init__(self, config: Config) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = MetaStore(config.resolved_meta_url(), config.resolved_node_name() if config.shared else None)
        self.catalog = Catalog(self.store)
        self.users = UserManager(self.store)
        self.repos = RepositoryMgr(self.store)
        self.repos.protect(config.data_dir)  # no LOCAL repository may overlap the server's own files
        self.frontend_config = FrontendConfig()
        # streamed: each row is parsed, made an object and dropped, never all held as dicts at once
        with _without_cyclic_gc():
            rows = self.catalog.replay(self.store.load())
            rows = self.users.replay(rows)
            rows = self.repos.replay(rows)
            self.txns = LoadTransactionMgr(self.store, self.frontend_config)
            rows = self.txns.replay(rows)
        self.txns.clean()
        self.catalog.ensure_backends(config.backends, config.data_dir.resolve(), make_roots=not config.shared)
        self.vault: StorageVault | None = None
        shared: SharedData | None = None
        if config.shared:
            config.check_shared()
            self.vault = StorageVault(config.storage_url or "", config.storage_properties)
            capacity = lambda: self.frontend_config.int(FILE_CACHE_KNOB)  # noqa: E731 - read at each use
            shared = SharedData(self.vault, config.data_dir.resolve() / "be", capacity)
            log.info("shared mode: rowsets in the storage vault %s at %s", self.vault.location, self.vault.fs.endpoint)
        self.tablets = TabletStore(self.catalog, shared)
        self.tablets.reset_local_roots()
        # the copies of repository files that FROM snapshot(...) reads: DuckDB may read there too
        snapshot_cache = FileCache(
            config.data_dir.resolve() / "snapshot_cache", lambda: self.frontend_config.int(CACHE_KNOB), CACHE_KNOB
        )
        roots = [Path(self.tablets.root(be.id)) for be in self.catalog.backend_list()]
        duck.configure(config.data_dir.resolve() / "duckdb_tmp", [*roots, snapshot_cache.root])
        with contextlib.closing(duck.cursor()) as cur:
            macros.install(cur)
        self.tablets.collect_staging()
        self._stopping = threading.Event()
        # shared mode: objects nothing references leave the vault (a periodic pass, started with the jobs)
        grace = lambda: self.frontend_config.int(GRACE_KNOB)  # noqa: E731 - read at each pass
        self.vault_gc = VaultCollector(self.store, self.vault, grace, self._stopping) if self.vault else None
        # what it keeps is captured now, before any client; it runs once the server is up (start_jobs), and
        # the thread lets go of the catalog's tablets of the start when done
        self._sweeper = threading.Thread(
            target=self._sweep_then_schedule, args=(self.tablets.orphan_sweep(),), name="OrphanSweep", daemon=True
        )
        self.engine = QueryEngine(self.catalog, self.tablets, self.users, self.txns)
        self.engine.snapshots = SnapshotScanner(self.repos, snapshot_cache)
        self.executor = TaskExecutor()
        job_ctx = JobContext(
            self.catalog,
            self.tablets,
            self.executor,
            self.repos,
            self.frontend_config,
            config.data_dir.resolve() / "fe_tmp",
            persist=lambda job, state: None,
            vault=self.vault,
        )
        self.jobs = BackupHandler(self.store, job_ctx)
        self.metrics = FrontendMetrics()
        self.jobs.on_end = self._count_ended
        rows = self.jobs.replay(rows)
        self.job_manager = JobManager(self.jobs)  # CREATE JOB's scheduled backups
        rows = self.job_manager.replay(rows)
        self.snapshot_ttl = SnapshotTtlDaemon(self.jobs)
        self.dynamic_partitions = DynamicPartitionScheduler(
            self.catalog, self.frontend_config, self.job_running, self.trash
        )
        self.global_variables: dict[str, Any] = next(
            (body for kind, _id, body in rows if kind == GLOBAL_VARIABLES_KIND), {}
        )
        # shared mode: told of the global variables another node SET (server/session.py's ServerVariables)
        self.global_variables_applied: Callable[[dict[str, Any]], None] = lambda values: None
        self._globals_lock = threading.Lock()
        self._globals_seq = 0  # shared mode: the journal seq of the values held
        self.jobs.collect_snapshot_dirs()
        self.leases = JobLeases(self.jobs, config.resolved_node_name()) if config.shared else None
        self.follower: JournalFollower | None = None
        if config.shared:
            self.follower = JournalFollower(
                self.store.engine, config.resolved_node_name(), self.store.position, self._apply_entry
            )
            self.store.catch_up = self.follower.catch_up
            self.follower.catch_up()  # what other nodes committed while this one started
        self.compactor = Compactor(self.catalog, self.tablets, self.frontend_config, self.job_running)
        self.started_ms = now_ms()
        # the client sessions, set by the server that accepts them (server/control.py)
        self.live_sessions: Callable[[], list[LiveSession]] = list
        self._background: list[threading.Thread] = []

    def _count_ended(self, job: AbstractJob) -> None:
        seconds = max(0, job.finished_time - job.create_time) / 1000 if job.finished_time > 0 else 0.0
        self.metrics.job_ended(EndedJob(job.type, str(job.state), job.status.code, seconds))

    def save_global_variable(self, name: str, value: Any) -> None:
        """Persist a SET GLOBAL value, so that it survives a restart as in Doris (in shared mode over the values
        of the latest SET GLOBAL of any node)."""

        def save() -> None:
            # the values are computed and committed under the lock the follower takes to apply another node's:
            # one applied in between (and counted as applied by the commit's stale check) would be overwritten
            # by values computed before it, and lost on every node
            with self._globals_lock:
                values = {**self.global_variables, name: value}
                self._take_global_values(values, self.store.commit(Change().put(GLOBAL_VARIABLES_KIND, 1, values)))

        self.store.retry_stale(save)

    def _global_values(self, values: dict[str, Any], seq: int) -> None:
        """The stored global variables as of journal ``seq``. Shared mode: this node's SET GLOBAL and the
        follower applying another node's both come here, and only values newer than those held are taken
        (the server's variables too: a catch-up on the way may have applied older values over a SET's)."""
        with self._globals_lock:
            self._take_global_values(values, seq)

    def _take_global_values(self, values: dict[str, Any], seq: int) -> None:
        """``_global_values`` for a caller holding ``_globals_lock``."""
        if self.config.shared and seq <= self._globals_seq:
            return
        self.global_variables, self._globals_seq = values, seq
        if self.config.shared:
            self.global_variables_applied(values)

    def _apply_entry(self, entry: JournalEntry) -> None:
        """Shared mode: another node's committed change, each row to its owner (deletes first, as the store
        wrote them)."""
        for kind, obj_id in entry.deletes:
            self._apply_row(entry.seq, kind, obj_id, None)
        for kind, obj_id, body in entry.puts:
            self._apply_row(entry.seq, kind, obj_id, body)

    def _apply_row(self, seq: int, kind: str, obj_id: int, body: dict[str, Any] | None) -> None:
        if kind == GLOBAL_VARIABLES_KIND:
            self._global_values(dict(body or {}), seq)
            return
        owners = (self.catalog, self.users, self.repos, self.txns, self.jobs, self.job_manager)
        if not any(owner.apply(kind, obj_id, body) for owner in owners):
            log.warning("journal row of unknown kind %s (id %d) ignored", kind, obj_id)

    def _sweep_then_schedule(self, sweep: OrphanSweep) -> None:
        """The job scheduler starts once the orphan sweep is done: a restore resumed in COMMIT links again
        files that a run before the restart linked into its new tablets' dirs, unreferenced and older than the
        start, which the sweep would otherwise delete under it."""
        sweep.run(self._stopping)
        if not self._stopping.is_set():
            self.jobs.start()

    def start_jobs(self) -> None:
        """Start the repository pinger, the background daemons (the first passes of the snapshot TTL daemon and
        of the JobManager catch up on what came due while the server was down) and, after the orphan sweep,
        the job scheduler, once the server accepts connections."""
        self.repos.start_pinger(self.frontend_config, self._stopping)
        recycler = start_periodic("CatalogRecycleBin", self._stopping, lambda: 1.0, self._erase_recycled)
        if self.leases is not None:  # before the scheduler: the jobs this node ran before a restart
            self.leases.resume_own()
        self._sweeper.start()
        # the background threads that commit metadata or delete files: close() waits for them before the
        # store closes
        self._background = [
            self.dynamic_partitions.start(self._stopping),
            self.txns.start(self._stopping),
            self.compactor.start(self._stopping),
            self.snapshot_ttl.start(self._stopping),
            self.job_manager.start(self._stopping),
            recycler,
            self._sweeper,
        ]
        if self.follower is not None and self.leases is not None:
            self._background += [self.follower.start(self._stopping), self.leases.start(self._stopping)]
        if self.vault_gc is not None:
            period = lambda: float(self.frontend_config.int(INTERVAL_KNOB))  # noqa: E731 - read at each tick
            self._background.append(start_periodic("VaultGC", self._stopping, period, self.vault_gc.run))

    def _erase_recycled(self) -> None:
        """Doris's recycle-bin daemon: objects dropped longer than ``catalog_trash_expire_second`` ago
        are erased and their files trashed."""
        self.trash(recycle_bin.expired(self.catalog, self.frontend_config.int("catalog_trash_expire_second")))

    def job_running(self, db_id: int) -> bool:
        """An unfinished BACKUP or RESTORE holds the database's partitions still (no compaction, no
        dynamic partition changes)."""
        return bool(self.jobs.unfinished_jobs(db_id))

    def trash(self, tablets: Iterable[Tablet]) -> None:
        """Dropped tablets' files go once no query reads them."""
        self.tablets.trash(tablets)

    def close(self) -> None:
        self._stopping.set()
        for thread in self._background:
            thread.join(5.0)
        self.jobs.stop()
        self.executor.shutdown()
        self.store.close()
