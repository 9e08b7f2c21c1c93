"""Shared mode across hosts: two ``dorisbk serve`` nodes in network namespaces of the test's own, each with its own
data dir and network stack, over a PostgreSQL server and a SeaweedFS vault they reach only through their veth
links (tests/netns.py). Node 1 on host A loads a table; node 2, started afterwards on host B, reads it with
identical results, its files fetched from the vault, and through one HAProxy endpoint in front of both."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import q
from tests.netns import Host, hosts, postgres_on
from tests.s3server import S3Server, s3_server
from tests.test_shared_endpoint import mysql_endpoint, read_through
from tests.test_shared_storage import QUERY, load, local_rowsets

READS = (
    QUERY,
    "SELECT d, count(*), sum(k) FROM sdb.t GROUP BY d ORDER BY d",
    "SELECT count(*), sum(k) FROM sdb.t PARTITION (p2)",
)


def node_on(host: Host, data_dir: Path, name: str, meta_url: str, s3: S3Server) -> DorisbkServer:
    return DorisbkServer(
        data_dir,
        meta_url=meta_url,
        storage=f"s3://{s3.bucket}/vault",
        storage_properties=s3.repository_properties(),
        node_name=name,
        host=host.address,
        wrap=host.wrap(),
    )


def test_a_node_on_another_host_reads_what_the_first_loaded(tmp_path: Path) -> None:
    with hosts(2) as (host_a, host_b):
        services = host_a.gateway  # the root namespace's address on host A's link; host B routes to it
        with postgres_on(services) as meta_url, s3_server(ip=services) as s3:
            # host B is another machine: the root namespace's loopback, where the machine's PostgreSQL listens,
            # is not there
            probe = "import socket; socket.create_connection(('127.0.0.1', 5432), timeout=5)"
            assert host_b.run(sys.executable, "-c", probe).returncode != 0
            first = node_on(host_a, tmp_path / "a" / "data", "n1", meta_url, s3)
            second = node_on(host_b, tmp_path / "b" / "data", "n2", meta_url, s3)
            try:
                first.start()
                with first.connect() as conn:
                    load(conn)
                    expected = {sql: q(conn, sql) for sql in READS}
                assert len(expected[QUERY]) == 300
                second.start()  # after the load: the catalog from PostgreSQL, the files from the vault
                assert local_rowsets(second.data_dir) == {}
                with second.connect() as conn:
                    assert {sql: q(conn, sql) for sql in READS} == expected
                assert set(local_rowsets(second.data_dir)) == set(local_rowsets(first.data_dir))
                # one endpoint in front of both hosts: every connection lands on either and reads the same
                with mysql_endpoint([first, second], tmp_path / "haproxy") as port:
                    landed = read_through(port, expected)
                assert set(landed) == {first.port, second.port}, landed
            finally:
                second.stop()
                first.stop()
