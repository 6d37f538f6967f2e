"""The one clock of the archive: every stored time is UTC ISO 8601 with seconds and a Z."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """The current UTC time as ISO 8601 with seconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
