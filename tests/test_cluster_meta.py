"""Shared mode's metadata: several ``dorisbk serve`` nodes over one PostgreSQL (docs/shared-mode.md).

Real nodes on loopback ports, each with a data dir of its own, share one PostgreSQL database (a fresh one per
test) and one storage vault (a prefix per test in a real SeaweedFS). What one node commits another sees
through the journal; changes of two nodes serialize; a BACKUP or RESTORE runs on the node that holds its
lease and, once that node is killed or frozen, finishes on another.
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest

from dorisbk.errors import StaleMetadata
from dorisbk.meta.journal import JournalEntry, JournalFollower
from dorisbk.meta.store import Change, MetaStore
from tests.dorisbk_server import DorisbkServer
from tests.jobkit import doris_err, pause, wait_ended
from tests.s3server import S3Server, s3_server
from tests.sqlhelp import dicts, one, rows, wait_until
from tests.test_backup_support import COL, make_table, wait_backup

ONE_JOB = "Can only run one backup or restore job of a database at same time"
SEEN_TIMEOUT = 30.0  # bound of a wait for another node's change to show (the lag is measured in bench/)
TAKEOVER_TIMEOUT = 90.0  # a killed node's lease expiring, then the job's upload, on a loaded machine

NodeFactory = Callable[[int], DorisbkServer]


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture
def cluster(postgres_url: str, s3: S3Server, tmp_path: Path) -> Iterator[NodeFactory]:
    """Starts node ``i`` of a cluster over the test's PostgreSQL database and vault prefix; every node is
    stopped after."""
    started: list[DorisbkServer] = []
    prefix = f"cluster-{uuid.uuid4().hex[:8]}"

    def node(i: int) -> DorisbkServer:
        srv = DorisbkServer(
            tmp_path / f"node{i}",
            meta_url=postgres_url,
            storage=f"s3://{s3.bucket}/{prefix}",
            storage_properties=s3.repository_properties(),
            node_name=f"node{i}",
        )
        started.append(srv.start())
        return srv

    yield node
    for srv in started:
        srv.stop()


def seen(srv: DorisbkServer, sql: str, expected: list[tuple], database: str | None = None) -> None:
    """Wait (bounded) until ``sql`` on ``srv`` returns ``expected``; a missing database or table counts as
    not yet."""

    def matches() -> bool:
        try:
            return srv.query(sql, database) == expected
        except pymysql.err.MySQLError:
            return False

    wait_until(matches, f"{sql} on port {srv.port} to return {expected[:5]}", SEEN_TIMEOUT)


def at_once(work: Callable[[int], None], count: int, timeout: float) -> None:
    """``work(0)`` .. ``work(count - 1)`` in threads at the same time; what any of them raised fails the test."""
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not errors, errors


def test_stale_commit_refused_until_caught_up(postgres_url: str) -> None:
    """Two stores of two nodes, in process over the real PostgreSQL: the journal and its check alone."""
    a, b = MetaStore(postgres_url, "a"), MetaStore(postgres_url, "b")
    try:
        assert list(a.load()) == list(b.load()) == []
        b.commit(Change().put("db", 1, {"name": "x"}))
        with pytest.raises(StaleMetadata) as refused:
            a.commit(Change().put("db", 2, {"name": "y"}))
        assert refused.value.code == 1105
        assert refused.value.message == (
            "This frontend has not yet applied every metadata change of the cluster (journal 0 of 1); "
            "the statement was not applied, retry it"
        )
        a.commit(Change(blind=True).put("job", 3, {"state": "PENDING"}))  # its own row: no check
        applied: list[JournalEntry] = []
        assert JournalFollower(a.engine, "a", a.position, applied.append).catch_up() == 2
        assert [(e.seq, e.node, e.puts, e.deletes) for e in applied] == [(1, "b", [("db", 1, {"name": "x"})], [])]
        a.commit(Change().put("db", 2, {"name": "y"}).delete("job", 3))
        b_applied: list[JournalEntry] = []
        JournalFollower(b.engine, "b", b.position, b_applied.append).catch_up()
        assert [(e.node, e.puts, e.deletes) for e in b_applied] == [
            ("a", [("job", 3, {"state": "PENDING"})], []),
            ("a", [("db", 2, {"name": "y"})], [("job", 3)]),
        ]
        assert [(k, i) for k, i, _ in b.load()] == [("db", 1), ("db", 2)]
    finally:
        a.close()
        b.close()


def test_ddl_and_loads_seen_on_every_node(cluster: NodeFactory) -> None:
    n1, n2, n3 = cluster(1), cluster(2), cluster(3)
    with n1.connect() as c:
        rows(c, "CREATE DATABASE shop")
        rows(
            c,
            "CREATE TABLE shop.orders (id INT, region VARCHAR(8), amount DECIMAL(10, 2)) DUPLICATE KEY(id) "
            "PARTITION BY RANGE(id) (PARTITION p1 VALUES LESS THAN (100), PARTITION p2 VALUES LESS THAN (1000)) "
            "DISTRIBUTED BY HASH(id) BUCKETS 3 PROPERTIES ('replication_num' = '1')",
        )
        rows(c, "INSERT INTO shop.orders VALUES (1, 'eu', 10.5), (2, 'us', 20), (150, 'eu', 7.25), (999, 'ap', 1)")
        rows(c, "CREATE VIEW shop.by_region AS SELECT region, sum(amount) AS total FROM shop.orders GROUP BY region")
        rows(c, "CREATE USER 'ana' IDENTIFIED BY 'pw'")
        rows(c, "GRANT SELECT_PRIV ON shop.* TO 'ana'")
        rows(c, "SET GLOBAL query_timeout = 77")
        expected = rows(c, "SELECT * FROM shop.orders ORDER BY id")
        totals = rows(c, "SELECT * FROM shop.by_region ORDER BY region")
        create = rows(c, "SHOW CREATE TABLE shop.orders")
    assert [r[0] for r in expected] == [1, 2, 150, 999]
    for other in (n2, n3):
        seen(other, "SELECT * FROM shop.orders ORDER BY id", expected)
        assert other.query("SELECT * FROM shop.by_region ORDER BY region") == totals
        assert other.query("SHOW CREATE TABLE shop.orders") == create
        seen(other, "SELECT @@global.query_timeout", [(77,)])
        with other.connect(user="ana", password="pw", database="shop") as ana:
            assert one(ana, "SELECT count(*) FROM orders") == 4
    # a change made through node 3 is seen by node 1 as well
    with n3.connect() as c:
        rows(c, "INSERT INTO shop.orders VALUES (3, 'us', 5)")
        rows(c, "ALTER TABLE shop.orders ADD COLUMN note VARCHAR(16) DEFAULT 'x'")
    seen(n1, "SELECT id, note FROM shop.orders WHERE id < 100 ORDER BY id", [(1, "x"), (2, "x"), (3, "x")])
    with n1.connect() as c:
        versions = {p["PartitionName"]: p["VisibleVersion"] for p in dicts(c, "SHOW PARTITIONS FROM shop.orders")}
    assert versions == {"p1": "3", "p2": "2"}


def test_create_table_race_one_wins(cluster: NodeFactory) -> None:
    nodes = [cluster(1), cluster(2)]
    with nodes[0].connect() as c:
        rows(c, "CREATE DATABASE race")
    seen(nodes[1], "SHOW DATABASES LIKE 'race'", [("race",)])
    for round_ in range(6):
        name = f"t{round_}"
        start = threading.Barrier(2)
        outcomes: list[tuple[int, str] | None] = [None, None]

        def create(i: int, name: str = name, start: threading.Barrier = start, outcomes: list = outcomes) -> None:
            with nodes[i].connect() as c:
                start.wait(10)
                try:
                    rows(c, f"CREATE TABLE race.{name} (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
                    outcomes[i] = (0, "")
                except pymysql.err.MySQLError as exc:
                    outcomes[i] = (exc.args[0], exc.args[1])

        at_once(create, 2, 60)
        assert sorted(o[0] for o in outcomes if o is not None) == [0, 1050], outcomes
        loser = next(o for o in outcomes if o is not None and o[0] == 1050)
        assert loser[1] == f"errCode = 2, detailMessage = Table '{name}' already exists"
    expected = [(f"t{i}",) for i in range(6)]
    for srv in nodes:
        seen(srv, "SHOW TABLES FROM race", expected)


def test_two_nodes_load_one_table(cluster: NodeFactory) -> None:
    nodes = [cluster(1), cluster(2)]
    with nodes[0].connect() as c:
        rows(c, "CREATE DATABASE ld")
        rows(c, "CREATE TABLE ld.t (k INT, src INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
    seen(nodes[1], "SHOW TABLES FROM ld", [("t",)])
    loads, per_load = 12, 5

    def load(i: int) -> None:
        with nodes[i].connect() as c:
            for n in range(loads):
                first = (i * loads + n) * per_load
                values = ", ".join(f"({k}, {i})" for k in range(first, first + per_load))
                rows(c, f"INSERT INTO ld.t VALUES {values}")

    at_once(load, 2, 120)
    total = 2 * loads * per_load
    for srv in nodes:
        seen(srv, "SELECT count(*), count(DISTINCT k), min(k), max(k) FROM ld.t", [(total, total, 0, total - 1)])
        seen(srv, "SELECT src, count(*) FROM ld.t GROUP BY src ORDER BY src", [(0, total // 2), (1, total // 2)])
        # every load took a version of its own: none was lost or taken twice
        with srv.connect() as c:
            assert [p["VisibleVersion"] for p in dicts(c, "SHOW PARTITIONS FROM ld.t")] == [str(1 + 2 * loads)]


def _repository(srv: DorisbkServer, location: Path) -> None:
    with srv.connect() as c:
        rows(c, f'CREATE REPOSITORY repo WITH LOCAL ON LOCATION "file://{location}"')


def test_one_job_per_database_across_nodes(cluster: NodeFactory, tmp_path: Path) -> None:
    n1, n2, n3 = cluster(1), cluster(2), cluster(3)
    _repository(n1, tmp_path / "repo")
    with n1.connect() as c:
        rows(c, "CREATE DATABASE jobs")
        make_table(c, "jobs", "t", rows=20)
    seen(n3, "SELECT count(*) FROM jobs.t", [(20,)])
    seen(n2, "SELECT count(*) FROM jobs.t", [(20,)])
    with n3.connect() as c3, n2.connect() as c2, n1.connect() as c1:
        pause(c3, "UPLOADING")
        rows(c3, "BACKUP SNAPSHOT jobs.first TO repo")
        wait_backup(c3, "jobs", "first", ("UPLOADING",), timeout=SEEN_TIMEOUT)
        assert doris_err(c2, "BACKUP SNAPSHOT jobs.second TO repo") == ONE_JOB
        # SHOW BACKUP on every node lists the cluster's job
        wait_until(lambda: [r[1] for r in rows(c1, "SHOW BACKUP FROM jobs")] == ["first"], "node 1 to list the job")
        pause(c3)
        assert wait_ended(c3, "BACKUP", "jobs")[COL["State"]] == "FINISHED"
        # once it ended, node 2 may start the database's next job at once
        rows(c2, "BACKUP SNAPSHOT jobs.second TO repo")
        assert wait_ended(c2, "BACKUP", "jobs")[COL["State"]] == "FINISHED"
        wait_until(
            lambda: (
                [(r[1], r[COL["State"]]) for r in rows(c1, "SHOW BACKUP FROM jobs")]
                == [("first", "FINISHED"), ("second", "FINISHED")]
            ),
            "node 1 to show both jobs ended",
            SEEN_TIMEOUT,
        )


def test_cancel_through_another_node(cluster: NodeFactory, tmp_path: Path) -> None:
    """Behind one endpoint a client can not choose its node: CANCEL through a node that does not run the job
    ends it, with Doris's status, as seen on every node; the node that ran it may start the next job."""
    n1, n2 = cluster(1), cluster(2)
    _repository(n1, tmp_path / "repo")
    with n1.connect() as c1, n2.connect() as c2:
        rows(c1, "CREATE DATABASE cx")
        make_table(c1, "cx", "t", rows=20)
        pause(c1, "UPLOADING")
        rows(c1, "BACKUP SNAPSHOT cx.held TO repo")
        wait_backup(c1, "cx", "held", ("UPLOADING",), timeout=SEEN_TIMEOUT)
        wait_until(lambda: [r[1] for r in rows(c2, "SHOW BACKUP FROM cx")] == ["held"], "node 2 to list the job")
        rows(c2, "CANCEL BACKUP FROM cx")  # answers once node 2 sees the job ended
        ended = rows(c2, "SHOW BACKUP FROM cx")[-1]
        assert (ended[COL["State"]], ended[COL["Status"]]) == ("CANCELLED", "[COMMON_ERROR, msg: user cancelled]")
        assert rows(c1, "SHOW BACKUP FROM cx")[-1][COL["State"]] == "CANCELLED"
        pause(c1)
        rows(c1, "BACKUP SNAPSHOT cx.next TO repo")
        assert wait_ended(c1, "BACKUP", "cx")[COL["State"]] == "FINISHED"


def test_killed_node_backup_finishes_elsewhere(cluster: NodeFactory, tmp_path: Path) -> None:
    n1, n2 = cluster(1), cluster(2)
    _repository(n1, tmp_path / "repo")
    with n1.connect() as c:
        rows(c, "CREATE DATABASE kb")
        make_table(c, "kb", "t", rows=40, buckets=3)
        rows(c, "INSERT INTO kb.t VALUES (1000, 'late')")
        expected = rows(c, "SELECT * FROM kb.t ORDER BY k")
        pause(c, "UPLOADING")
        rows(c, "BACKUP SNAPSHOT kb.snap TO repo")
        job_id = wait_backup(c, "kb", "snap", ("UPLOADING",), timeout=SEEN_TIMEOUT)[0]
    n1.kill9()
    with n2.connect() as c:
        row = wait_ended(c, "BACKUP", "kb", timeout=TAKEOVER_TIMEOUT)
        assert (row[0], row[1], row[COL["State"]]) == (job_id, "snap", "FINISHED")
        snapshots = rows(c, "SHOW SNAPSHOT ON repo")
        assert [(s[0], s[2]) for s in snapshots] == [("snap", "OK")]
        rows(
            c,
            f"RESTORE SNAPSHOT kb.snap FROM repo ON (t AS restored) "
            f"PROPERTIES ('backup_timestamp' = '{snapshots[0][1]}', 'replication_num' = '1')",
        )
        restore = wait_ended(c, "RESTORE", "kb", timeout=TAKEOVER_TIMEOUT)
        assert restore[4] == "FINISHED", restore
        assert rows(c, "SELECT * FROM kb.restored ORDER BY k") == expected
    assert "took over job snap (BACKUP) in state UPLOAD_SNAPSHOT" in n2.log()


def test_empty_node_joins_and_follows(cluster: NodeFactory) -> None:
    n1 = cluster(1)
    with n1.connect() as c:
        rows(c, "CREATE DATABASE late")
        make_table(c, "late", "t", rows=30, buckets=2)
        rows(c, "CREATE TABLE late.u (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        rows(c, "INSERT INTO late.u VALUES (1, 1), (2, 2)")
        rows(c, "UPDATE late.u SET v = 20 WHERE k = 2")
        expected = rows(c, "SELECT * FROM late.t ORDER BY k")
    n2 = cluster(2)  # an empty data dir: everything comes from PostgreSQL and the vault
    assert n2.query("SELECT * FROM late.t ORDER BY k") == expected
    assert n2.query("SELECT * FROM late.u ORDER BY k") == [(1, 1), (2, 20)]
    with n2.connect() as c:
        rows(c, "INSERT INTO late.u VALUES (3, 3)")
    seen(n1, "SELECT * FROM late.u ORDER BY k", [(1, 1), (2, 20), (3, 3)])
    # a restarted node replays the store and follows the journal from its end
    n2.kill9()
    with n1.connect() as c:
        rows(c, "INSERT INTO late.u VALUES (4, 4)")
    n2.start()
    assert n2.query("SELECT count(*) FROM late.u") == [(4,)]
    with n1.connect() as c:
        rows(c, "DELETE FROM late.u WHERE k = 1")
    seen(n2, "SELECT k FROM late.u ORDER BY k", [(2,), (3,), (4,)])


def test_killed_node_restore_finishes_elsewhere(cluster: NodeFactory, tmp_path: Path) -> None:
    n1, n2 = cluster(1), cluster(2)
    _repository(n1, tmp_path / "repo")
    with n1.connect() as c:
        rows(c, "CREATE DATABASE kr")
        make_table(c, "kr", "t", rows=50, buckets=3)
        expected = rows(c, "SELECT * FROM kr.t ORDER BY k")
        rows(c, "BACKUP SNAPSHOT kr.snap TO repo")
        assert wait_ended(c, "BACKUP", "kr")[COL["State"]] == "FINISHED"
        stamp = rows(c, "SHOW SNAPSHOT ON repo")[0][1]
        pause(c, "DOWNLOADING", kind="RESTORE")
        rows(
            c,
            f"RESTORE SNAPSHOT kr.snap FROM repo ON (t AS back) "
            f"PROPERTIES ('backup_timestamp' = '{stamp}', 'replication_num' = '1')",
        )
        wait_until(lambda: rows(c, "SHOW RESTORE FROM kr")[-1][4] == "DOWNLOADING", "the restore to download")
    n1.kill9()
    with n2.connect() as c:
        restore = wait_ended(c, "RESTORE", "kr", timeout=TAKEOVER_TIMEOUT)
        assert restore[4] == "FINISHED", restore
        assert rows(c, "SELECT * FROM kr.back ORDER BY k") == expected
    assert "took over job snap (RESTORE)" in n2.log()


def test_stalled_node_loses_its_job(cluster: NodeFactory, tmp_path: Path) -> None:
    """A node frozen past its lease's expiry (SIGSTOP) finds the job taken when it wakes: it stops it and can
    not write the job's row; the new holder finishes it."""
    n1, n2 = cluster(1), cluster(2)
    _repository(n1, tmp_path / "repo")
    with n1.connect() as c:
        rows(c, "CREATE DATABASE st")
        make_table(c, "st", "t", rows=30, buckets=2)
        expected = rows(c, "SELECT * FROM st.t ORDER BY k")
        pause(c, "UPLOADING")
        rows(c, "BACKUP SNAPSHOT st.snap TO repo")
        wait_backup(c, "st", "snap", ("UPLOADING",), timeout=SEEN_TIMEOUT)
    assert n1.proc is not None
    os.kill(n1.proc.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: "took over job snap (BACKUP)" in n2.log(), "node 2 to take the job", TAKEOVER_TIMEOUT)
    finally:
        os.kill(n1.proc.pid, signal.SIGCONT)
    with n1.connect() as c:
        pause(c)  # node 1 would go on uploading if it still ran the job
    wait_until(lambda: "lost the lease of job snap (BACKUP)" in n1.log(), "node 1 to stop the job", SEEN_TIMEOUT)
    with n2.connect() as c:
        assert wait_ended(c, "BACKUP", "st", timeout=TAKEOVER_TIMEOUT)[COL["State"]] == "FINISHED"
        stamp = rows(c, "SHOW SNAPSHOT ON repo")[0][1]
        rows(
            c,
            f"RESTORE SNAPSHOT st.snap FROM repo ON (t AS back) "
            f"PROPERTIES ('backup_timestamp' = '{stamp}', 'replication_num' = '1')",
        )
        assert wait_ended(c, "RESTORE", "st", timeout=TAKEOVER_TIMEOUT)[4] == "FINISHED"
        assert rows(c, "SELECT * FROM st.back ORDER BY k") == expected
    with n1.connect() as c:
        seen(n1, "SELECT count(*) FROM st.back", [(30,)])
        assert [(r[1], r[COL["State"]]) for r in rows(c, "SHOW BACKUP FROM st")] == [("snap", "FINISHED")]


def test_second_live_node_of_a_name_refused(cluster: NodeFactory, postgres_url: str, s3: S3Server) -> None:
    first = cluster(1)
    twin = DorisbkServer(
        first.data_dir.parent / "twin",
        meta_url=postgres_url,
        storage=first.storage,
        storage_properties=s3.repository_properties(),
        node_name="node1",
    )
    with pytest.raises(RuntimeError) as refused:
        twin.start()
    assert "dorisbk: Another live node of this cluster is named node1: give each node its own --node-name" in str(
        refused.value
    )
    first.kill9()  # its death frees the name at once
    twin.start()
    twin.stop()


def test_set_global_on_two_nodes_at_once(cluster: NodeFactory) -> None:
    """Each node SETs its own global variable again and again at the same time: none is lost, on either."""
    nodes = [cluster(1), cluster(2)]
    names = ["query_timeout", "insert_timeout"]
    rounds = 8

    def set_many(i: int) -> None:
        with nodes[i].connect() as c:
            for n in range(rounds):
                rows(c, f"SET GLOBAL {names[i]} = {1000 * (i + 1) + n}")

    at_once(set_many, 2, 60)
    final = [(1000 + rounds - 1, 2000 + rounds - 1)]
    for srv in nodes:
        seen(srv, "SELECT @@global.query_timeout, @@global.insert_timeout", final)
