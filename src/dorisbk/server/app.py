"""Starting and stopping the MySQL-protocol server around one Env."""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import sys

from mysql_mimic import IdentityProvider, NativePasswordAuthPlugin, User
from mysql_mimic.constants import DEFAULT_SERVER_CAPABILITIES
from mysql_mimic.types import Capabilities

from dorisbk.env import Config, Env
from dorisbk.http.actions import FrontendActions
from dorisbk.http.server import HttpServer
from dorisbk.server import compat
from dorisbk.server.audit import AuditLog
from dorisbk.server.control import SessionControl
from dorisbk.server.session import DorisSession, ServerVariables
from dorisbk.sql.router import Router

log = logging.getLogger(__name__)


class Accounts(IdentityProvider):
    """Looks users up in dorisbk's user manager; passwords are mysql_native_password hashes."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def get_plugins(self) -> list:
        return [NativePasswordAuthPlugin()]

    async def get_user(self, username: str) -> User | None:
        """The account of a login name; the empty name (MySQL's anonymous user) has none here."""
        if not username:
            return None
        user = self.env.users.get(username)
        if user is None:
            return None
        # the library wants SHA1(SHA1(pw)) in lower-case hex; we store MySQL's "*HEX" form
        auth = user.password[1:].lower() if user.password else None
        return User(name=username, auth_string=auth, auth_plugin=NativePasswordAuthPlugin.name)


# How long a thread may hold the GIL while another waits (Python's default: 5 ms). A statement's thread waits
# this long at each handoff behind the job's workers and scheduler; at 100,000 tablets SHOW BACKUP's slowest
# poll during the job was 197-233 ms at 5 ms, 102 ms at 1 ms, and the jobs ran no slower (bench/scale.py).
GIL_SWITCH_S = 0.001


async def serve(config: Config) -> None:
    sys.setswitchinterval(GIL_SWITCH_S)
    compat.apply()
    env = Env(config)
    router = Router(env)
    global_variables = ServerVariables(env)
    audit = AuditLog(config.resolved_log_dir(), env.frontend_config)
    ssl_context = None
    if config.tls_cert and config.tls_key:
        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_context.load_cert_chain(config.tls_cert, config.tls_key)
    control = SessionControl(server_id=1)
    server = compat.DorisMysqlServer(
        session_factory=lambda: DorisSession(env, router, global_variables, audit),
        identity_provider=Accounts(env),
        # CLIENT_LONG_FLAG, as MySQL and Doris announce it: without it Connector/J reads column flags as one
        # byte and takes a DECIMAL's scale from the next one
        capabilities=DEFAULT_SERVER_CAPABILITIES | Capabilities.CLIENT_LONG_FLAG,
        control=control,
        ssl=ssl_context,
    )
    env.live_sessions = control.sessions  # SHOW PROCESSLIST, information_schema's session variables
    await server.start_server(host=config.host, port=config.port)
    http = HttpServer(FrontendActions(env)) if config.http_port else None
    if http is not None:
        await http.start(config.host, config.http_port)
        log.info("HTTP on %s:%d", config.host, config.http_port)
    env.start_jobs()
    print(f"dorisbk ready on {config.host}:{config.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    server.close()
    await server.wait_closed()
    if http is not None:
        http.close()
        await http.wait_closed()
    env.close()
    audit.close()
