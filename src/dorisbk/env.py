"""Env: the one frontend instance (Doris's ``Env``) that owns the store, catalog, users and backends."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dorisbk.auth.users import UserManager
from dorisbk.backend import duck
from dorisbk.backend.tablet_store import TabletStore
from dorisbk.catalog.catalog import Catalog
from dorisbk.catalog.model import Tablet, now_ms
from dorisbk.meta.store import MetaStore
from dorisbk.sql.handlers.query import QueryEngine


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 9030
    data_dir: Path = Path("dorisbk-data")
    backends: int = 1
    meta_url: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None

    def resolved_meta_url(self) -> str:
        return self.meta_url or f"sqlite:///{(self.data_dir / 'meta.db').resolve()}"


class Env:
    """Builds and replays every component from the metadata store, in dependency order."""

    def __init__(self, config: Config) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = MetaStore(config.resolved_meta_url())
        rows = list(self.store.load())
        self.catalog = Catalog(self.store)
        self.users = UserManager(self.store)
        rows = self.catalog.replay(rows)
        self.rest = self.users.replay(rows)
        self.catalog.ensure_backends(config.backends, config.data_dir.resolve())
        duck.configure(config.data_dir.resolve() / "duckdb_tmp")
        self.tablets = TabletStore(self.catalog)
        self.tablets.collect_orphans()
        self.engine = QueryEngine(self.catalog, self.tablets, self.users)
        self.started_ms = now_ms()

    def trash(self, tablets: Iterable[Tablet]) -> None:
        """Dropped tablets' files go once no query reads them."""
        self.tablets.trash(tablets)

    def close(self) -> None:
        self.store.close()
