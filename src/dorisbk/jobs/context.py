"""What a running job may use: the catalog, the backends' tablet store and task workers,
repositories, frontend config, and persistence of its own state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dorisbk.backend.tablet_store import TabletStore
from dorisbk.backend.tasks import TaskExecutor
from dorisbk.catalog.catalog import Catalog
from dorisbk.config import FrontendConfig
from dorisbk.jobs.repositories import RepositoryMgr

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
