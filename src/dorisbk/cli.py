"""``dorisbk serve`` and ``dorisbk watch``: the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from dorisbk.env import Config
from dorisbk.errors import DorisError
from dorisbk.server.app import serve
from dorisbk.watch import watch


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dorisbk", description="A Doris-compatible backup and restore server")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("serve", help="run the server")
    cmd.add_argument("--host", default="127.0.0.1")
    cmd.add_argument("--port", type=int, default=9030)
    cmd.add_argument(
        "--http-port", type=int, default=8030, help="status pages, REST API and /metrics (Doris's http_port); 0: off"
    )
    cmd.add_argument("--data-dir", type=Path, default=Path("dorisbk-data"))
    cmd.add_argument("--backends", type=int, default=1, help="number of backends (storage roots)")
    cmd.add_argument("--meta-url", default=None, help="SQLAlchemy URL of the metadata store")
    cmd.add_argument("--tls-cert", default=None)
    cmd.add_argument("--tls-key", default=None)
    cmd.add_argument("--log-level", default="INFO")
    cmd.add_argument("--log-dir", type=Path, default=None, help="where fe.audit.log goes (default: <data-dir>/log)")
    cmd.add_argument(
        "--storage", default=None, metavar="URL", help="shared mode: the storage vault for rowsets, s3://bucket/prefix"
    )
    cmd.add_argument(
        "--storage-property",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an S3 property of the storage vault, as a repository's (s3.endpoint, s3.access_key, ...); repeatable",
    )
    cmd.add_argument("--node-name", default="", metavar="NAME", help="this node's name (default: HOST:PORT)")
    view = sub.add_parser("watch", help="live progress bars of a server's BACKUP / RESTORE jobs")
    view.add_argument("--host", default="127.0.0.1")
    view.add_argument("--port", type=int, default=9030)
    view.add_argument("--user", default="root")
    view.add_argument("--password", default="")
    view.add_argument("--db", default=None, help="only the jobs of this database")
    view.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes")
    args = parser.parse_args(argv)
    if args.command == "watch":
        watch(args.host, args.port, args.user, args.password, args.db, args.interval)
        return
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("sqlglot", "mysql_mimic"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    if args.backends < 1:
        parser.error("--backends must be at least 1")
    properties: dict[str, str] = {}
    for item in args.storage_property:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            parser.error("--storage-property takes KEY=VALUE")  # the value may be a secret: never echoed
        properties[key.strip()] = value
    if properties and args.storage is None:
        parser.error("--storage-property needs --storage")
    config = Config(
        host=args.host,
        port=args.port,
        http_port=args.http_port,
        data_dir=args.data_dir,
        backends=args.backends,
        meta_url=args.meta_url,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        log_dir=args.log_dir,
        storage_url=args.storage,
        storage_properties=properties,
        node_name=args.node_name,
    )
    try:
        config.check_shared()
    except DorisError as exc:
        parser.error(exc.message)
    try:
        asyncio.run(serve(config))
    except DorisError as exc:  # refused at start (shared mode: a node name already live)
        parser.exit(1, f"dorisbk: {exc.message}\n")


if __name__ == "__main__":
    main()
