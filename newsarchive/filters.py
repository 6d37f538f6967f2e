"""Checking the date options of the commands (`--since`, `--until`)."""

from __future__ import annotations

from datetime import date, datetime

from newsarchive.errors import CommandError


def check_date(option: str, value: str | None) -> str | None:
    """`value` as ISO 8601 (a date like 2025-03-14, or a date and time), or None when not
    given; CommandError naming the option for anything else."""
    if not value:
        return None
    try:
        return (date if len(value) == 10 else datetime).fromisoformat(value).isoformat()
    except ValueError:
        raise CommandError(f"{option}: expected a date like 2025-03-14, got {value!r}") from None
