"""The server's live connections by id: what SHOW PROCESSLIST, KILL, information_schema's session
variables and the thread counters read. mysql-mimic's LocalControl keeps them; this subclass is the one
place that looks inside it."""

from __future__ import annotations

from typing import Any

from mysql_mimic.control import LocalControl


class SessionControl(LocalControl):
    def connection(self, connection_id: int) -> Any | None:
        """The live connection with this id (its ``session`` is a DorisSession), None when unknown."""
        return self._connections.get(connection_id)

    def sessions(self) -> list[Any]:
        """Every live connection's session, as the LiveSession protocol of ``dorisbk.env`` reads them."""
        return [c.session for c in list(self._connections.values())]

    def count(self) -> int:
        return len(self._connections)
