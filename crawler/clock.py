"""The one clock of the archive: every stored time is UTC ISO 8601 with seconds and a Z; dates
from pages, feeds and sitemaps are kept only when plausible."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def now_iso() -> str:
    """The current UTC time as ISO 8601 with seconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# Dates before this, or more than a day ahead, are parsing mistakes or placeholders.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def plausible(moment: datetime | date, now: datetime | None = None) -> bool:
    """True when the date lies between 1990-01-01 and one day after now."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return EARLIEST <= moment <= now + timedelta(days=1)
