"""Structured logs: one JSON object per line on stderr (or plain text for humans).

No line carries an API key: both formats pass every line, tracebacks included, through `redact`,
which masks ``Bearer <credential>`` and the secret part of ``oura_<key_id>_<secret>`` keys (the key
id stays, to find the key). The HTTP layer never logs headers in the first place
(`oura.http.server`); this is the net under any library that quotes a request.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

__all__ = ["setup_logging", "redact", "JsonFormatter", "TextFormatter"]

_CREDENTIALS = [
    (re.compile(r"\b(oura_[0-9a-f]{16}_)[A-Za-z0-9_-]+"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(bearer|basic)(\s+)(?!oura_[0-9a-f]{16}_)[A-Za-z0-9._~+/=-]+"), r"\1\2[redacted]"),
]


def redact(text: str) -> str:
    """``text`` with every API key secret and bearer credential masked."""
    for pattern, replacement in _CREDENTIALS:
        text = pattern.sub(replacement, text)
    return text

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
