"""``dorisbk serve``: the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from dorisbk.env import Config
from dorisbk.server.app import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dorisbk", description="A Doris-compatible backup and restore server")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("serve", help="run the server")
    cmd.add_argument("--host", default="127.0.0.1")
    cmd.add_argument("--port", type=int, default=9030)
    cmd.add_argument("--data-dir", type=Path, default=Path("dorisbk-data"))
    cmd.add_argument("--backends", type=int, default=1, help="number of backends (storage roots)")
    cmd.add_argument("--meta-url", default=None, help="SQLAlchemy URL of the metadata store")
    cmd.add_argument("--tls-cert", default=None)
    cmd.add_argument("--tls-key", default=None)
    cmd.add_argument("--log-level", default="INFO")
    cmd.add_argument("--log-dir", type=Path, default=None, help="where fe.audit.log goes (default: <data-dir>/log)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("sqlglot", "mysql_mimic"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    if args.backends < 1:
        parser.error("--backends must be at least 1")
    config = Config(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        backends=args.backends,
        meta_url=args.meta_url,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        log_dir=args.log_dir,
    )
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
