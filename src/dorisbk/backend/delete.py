"""DELETE FROM: a new partition version without the rows the condition matches.

Doris keeps a delete as a predicate (or delete-sign rows) that reads apply to older
versions. Here a delete rewrites each tablet that holds matching rows into one rowset of
the rows that stay, merged as the key model says, and publishes version v+1 whose replicas
list only that rowset; tablets without matching rows keep their rowsets. The new files
are on disk before the metadata commit, like a load's, and the replaced files go to the
trash once no reader holds them. Backups and restores then see an ordinary tablet.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dorisbk.backend import duck
from dorisbk.backend.duck import quote_ident, quote_str
from dorisbk.backend.load import ROWSET_FORMAT, table_lock
from dorisbk.backend.scan import ORDER_COLUMN, ScanPlan, readable_replica, scan_sql
from dorisbk.backend.tablet_store import TabletStore
from dorisbk.catalog.catalog import Catalog
from dorisbk.catalog.model import Partition, Replica, Rowset, Table, Tablet, now_ms
from dorisbk.checksum import md5_file
from dorisbk.errors import DorisError
from dorisbk.meta.store import Change


@dataclass
class _Rewrite:
    """A tablet whose rows change: the staged file of the rows that stay (None: no row stays)."""

    tablet: Tablet
    staged: str | None
    rows: int = 0
    md5: str = ""
    placed: list[str] = field(default_factory=list)


class Deleter:
    """Runs DELETE statements; one load or delete per table at a time, as loads already are."""

    def __init__(self, catalog: Catalog, store: TabletStore) -> None:
        self.catalog = catalog
        self.store = store

    def delete(self, table: Table, condition: str, partition_names: Sequence[str] = ()) -> int:
        """Delete the rows of ``table`` for which the DuckDB expression ``condition`` is true; returns
        how many went."""
        with table_lock(table.id):
            return self._delete(table, condition, partition_names)

    def _delete(self, table: Table, condition: str, partition_names: Sequence[str]) -> int:
        with self.catalog.lock:
            table = self.catalog.tables.get(table.id) or table
            if table.state != "NORMAL":
                raise DorisError(f"Table [{table.name}] is in {table.state} state, can not delete data")
            names = partition_names or [p.name for p in self.catalog.table_partitions(table)]
            parts = [self.catalog.partition(table, n) for n in names]
            tablets = {p.id: self.catalog.partition_tablets(p) for p in parts}
        txn_id = self.catalog.store.next_id()
        staging = self.store.staging_dir(self.catalog.backend_list()[0].id, f"delete_{txn_id}_{uuid.uuid4().hex[:8]}")
        rewrites: dict[int, _Rewrite] = {}
        try:
            deleted = 0
            cur = duck.cursor()
            try:
                for part in parts:
                    for tablet in tablets[part.id]:
                        gone, rewrite = self._rewrite(cur, table, part, tablet, condition, staging)
                        deleted += gone
                        if rewrite is not None:
                            rewrites[tablet.id] = rewrite
            except duckdb.Error as exc:
                raise DorisError(duck.error_message(exc)) from None
            finally:
                cur.close()
            self._publish(table, parts, tablets, rewrites, txn_id)
            return deleted
        except BaseException:
            for rewrite in rewrites.values():
                for path in rewrite.placed:
                    Path(path).unlink(missing_ok=True)
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _rewrite(
        self,
        cur: duckdb.DuckDBPyConnection,
        table: Table,
        part: Partition,
        tablet: Tablet,
        condition: str,
        staging: Path,
    ) -> tuple[int, _Rewrite | None]:
        """Rows of one tablet the condition deletes, and the rows that stay staged (None if none go)."""
        replica = tablet.replicas[readable_replica(tablet, part.visible_version)]
        files = [self.store.absolute(replica.backend_id, r.path) for r in replica.visible_rowsets(part.visible_version)]
        if not files:
            return 0, None
        merged = scan_sql(ScanPlan(table, [part], 1, 1, files))
        with self.store.lease(files):
            self.store.ensure_local((replica.backend_id, r) for r in replica.visible_rowsets(part.visible_version))
            row = cur.execute(f"SELECT count(*) FROM ({merged}) AS __t WHERE coalesce(({condition}), false)").fetchone()
            gone = int(row[0]) if row else 0
            if gone == 0:
                return 0, None
            stays = f"SELECT * FROM ({merged}) AS __t WHERE NOT coalesce(({condition}), false)"
            left = cur.execute(f"SELECT count(*) FROM ({stays}) AS __s").fetchone()
            rows = int(left[0]) if left else 0
            if rows == 0:
                return gone, _Rewrite(tablet, None)
            stored = ", ".join(
                f"CAST({quote_ident(c.name)} AS {c.type.storage()}) AS {quote_ident(c.file_name)}"
                for c in table.columns
            )
            # the rows that stay lose to any later load of the same key (its order values are larger)
            order = f", CAST(0 AS BIGINT) AS {ORDER_COLUMN}" if table.keys_type != "DUP_KEYS" else ""
            path = staging / f"{tablet.id}.parquet"
            cur.execute(
                f"COPY (SELECT {stored}{order} FROM ({stays}) AS __s) TO {quote_str(str(path))} ({ROWSET_FORMAT})"
            )
        return gone, _Rewrite(tablet, str(path), rows, md5_file(str(path)))

    def _publish(
        self,
        table: Table,
        parts: list[Partition],
        tablets: dict[int, list[Tablet]],
        rewrites: dict[int, _Rewrite],
        txn_id: int,
    ) -> None:
        new_rowsets: dict[int, list[list[Rowset]]] = {}
        placed: list[str] = []
        dirs: set[str] = set()
        for rewrite in rewrites.values():
            per_replica: list[list[Rowset]] = []
            if rewrite.staged is not None:
                rowset_id = self.catalog.store.next_id()
                size = os.path.getsize(rewrite.staged)
                for replica in rewrite.tablet.replicas:
                    target_dir = self.store.tablet_dir(replica.backend_id, rewrite.tablet.id)
                    target_dir.mkdir(parents=True, exist_ok=True)
                    target = target_dir / f"{rowset_id}_{txn_id}.parquet"
                    shutil.copyfile(rewrite.staged, target)
                    rewrite.placed.append(str(target))
                    placed.append(str(target))
                    dirs.add(str(target_dir))
                    relative = self.store.relative(replica.backend_id, target)
                    per_replica.append([Rowset(rowset_id, 0, relative, rewrite.rows, size, rewrite.md5)])
            else:
                per_replica = [[] for _ in rewrite.tablet.replicas]
            new_rowsets[rewrite.tablet.id] = per_replica
        self.store.persist(placed, dirs)  # the files and their names are durable before the metadata lists them
        trash: list[Tablet] = []
        with self.catalog.lock:
            puts: list[object] = []
            for old in parts:
                part = self.catalog.partitions.get(old.id)
                same = [t.id for t in tablets[old.id]] == (part.tablet_ids if part else None)
                if part is None or not same or part.visible_version != old.visible_version:
                    raise DorisError("Delete aborted: the partition changed during the delete, please retry")
                version = part.visible_version + 1
                for tablet_id in part.tablet_ids:
                    tablet = self.catalog.tablets[tablet_id]
                    replicas: list[Replica] = []
                    for i, replica in enumerate(tablet.replicas):
                        rowsets = replica.rowsets
                        if tablet_id in new_rowsets:
                            rowsets = [dataclasses.replace(r, version=version) for r in new_rowsets[tablet_id][i]]
                        replicas.append(dataclasses.replace(replica, version=version, rowsets=rowsets))
                    puts.append(dataclasses.replace(tablet, replicas=replicas))
                    if tablet_id in new_rowsets:
                        trash.append(tablet)  # its old rowsets, once no reader holds them
                puts.append(dataclasses.replace(part, visible_version=version, visible_version_time=now_ms()))
            current = self.catalog.tables.get(table.id)
            if current is None:
                raise DorisError("Delete aborted: the table was dropped during the delete")
            puts.append(dataclasses.replace(current, update_time=now_ms()))
            self.catalog.commit(Change(), puts=puts)
        self.store.trash(trash)
