"""A job's Status as SHOW BACKUP / SHOW RESTORE print it: ``[OK]`` or ``[CODE, msg: text]``."""

from __future__ import annotations

from dataclasses import dataclass

CODES = (
    "OK",
    "NOT_FOUND",
    "BAD_FILE",
    "CREATE_REMOTE_PATH_FAILED",
    "IS_DIR",
    "IS_FILE",
    "TIMEOUT",
    "BAD_CONNECTION",
    "COMMON_ERROR",
    "OLAP_VERSION_ALREADY_MERGED",
)


@dataclass(frozen=True)
class Status:
    code: str = "OK"
    msg: str = ""

    @property
    def ok(self) -> bool:
        return self.code == "OK"

    def __str__(self) -> str:
        return "[OK]" if self.ok else f"[{self.code}, msg: {self.msg}]"

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "msg": self.msg}

    @staticmethod
    def from_dict(d: dict[str, str]) -> Status:
        return Status(d["code"], d.get("msg", ""))


OK = Status()
