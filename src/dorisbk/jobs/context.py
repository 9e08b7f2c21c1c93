"""What a running job may use: the catalog, the backends' tablet store and task workers,
repositories, frontend config, persistence of its own state, and (for BACKUP / RESTORE GLOBAL)
the stores of global objects the sql layer gives it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dorisbk.backend.tablet_store import TabletStore
from dorisbk.backend.tasks import TaskExecutor
from dorisbk.catalog.catalog import Catalog
from dorisbk.config import FrontendConfig
from dorisbk.errors import DorisError
from dorisbk.jobs.global_objects import GlobalObject, GlobalObjectStore
from dorisbk.jobs.repositories import RepositoryMgr
from dorisbk.storage.repository import Repository
from dorisbk.storage.vault import StorageVault

if TYPE_CHECKING:
    from dorisbk.jobs.abstract_job import AbstractJob


@dataclass
class JobContext:
    catalog: Catalog
    tablets: TabletStore
    executor: TaskExecutor
    repos: RepositoryMgr
    config: FrontendConfig
    tmp_dir: Path
    persist: Callable[[AbstractJob, str | None], None]
    global_objects: dict[GlobalObject, GlobalObjectStore] = field(default_factory=dict)
    vault: StorageVault | None = None  # shared mode: where the rowset files live

    def vault_copying(self, repo: Repository) -> StorageVault | None:
        """The vault, when files move between it and ``repo`` by server-side copies (same S3 endpoint)."""
        return self.vault if self.vault is not None and self.vault.copies_with(repo.fs) else None

    def global_store(self, kind: GlobalObject) -> GlobalObjectStore:
        """The store of ``kind``; a server that never had one given (jobs run without the sql layer) fails."""
        store = self.global_objects.get(kind)
        if store is None:
            raise DorisError(f"no store of global objects of kind {kind} on this server")
        return store
