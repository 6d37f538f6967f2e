"""Checking the values commands are given before anything runs: `-s` settings (known names,
values of the right type), dates and ports. Each check raises CommandError with one line."""

from __future__ import annotations

import difflib
import errno
import math
import socket
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from scrapy.settings import Settings, default_settings
from scrapy.utils.misc import load_object

from crawler import settings as project
from newsarchive.errors import CommandError

# The settings a crawl knows: Scrapy's own and the project's (crawler/settings.py).
KNOWN_SETTINGS = frozenset(
    name for module in (default_settings, project) for name in dir(module) if name.isupper()
)
# Types of settings whose default does not tell: None, or a whole number read as a float.
DECLARED_TYPES: dict[str, type] = {"NEWSARCHIVE_EXTRACTION_WORKERS": int} | {
    name: float
    for name in (
        "AUTOTHROTTLE_MAX_DELAY",
        "AUTOTHROTTLE_START_DELAY",
        "CLOSESPIDER_TIMEOUT",
        "DNS_TIMEOUT",
        "DOWNLOAD_DELAY",
        "DOWNLOAD_TIMEOUT",
        "LOGSTATS_INTERVAL",
        "NEWSARCHIVE_LEASE_SECONDS",
        "NEWSARCHIVE_WORKER_MAX_IDLE",
    )
}
# Numbers that must be more than zero (every other NEWSARCHIVE_* number may be zero).
POSITIVE = {
    "NEWSARCHIVE_BATCH_SIZE",
    "NEWSARCHIVE_FLUSH_SECONDS",
    "NEWSARCHIVE_EXTRACTION_TIMEOUT",
    "NEWSARCHIVE_LEASE_SECONDS",
    "NEWSARCHIVE_MAX_DELIVERIES",
    "NEWSARCHIVE_WORKER_TICK",
}


def check_setting_name(name: str) -> None:
    """CommandError for a setting neither Scrapy nor the project declares, with the closest
    known name ("did you mean"): settings are upper case, a typo is never ignored."""
    if name in KNOWN_SETTINGS:
        return
    close = [name.upper()] if name.upper() in KNOWN_SETTINGS else []
    close = close or difflib.get_close_matches(name.upper(), KNOWN_SETTINGS, n=1, cutoff=0.8)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise CommandError(f"-s: unknown setting {name!r}{hint}")


def _number(name: str, value: str, kind: type) -> float:
    try:
        number = int(value) if kind is int else float(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise CommandError(f"-s: {name} must be {what}, got {value!r}") from None
    if not math.isfinite(number):
        raise CommandError(f"-s: {name} must be a number, got {value!r}")
    if name.startswith("NEWSARCHIVE_"):
        if name in POSITIVE and number <= 0:
            raise CommandError(f"-s: {name} must be more than 0, got {value!r}")
        if number < 0:
            raise CommandError(f"-s: {name} must not be negative, got {value!r}")
    return number


def check_settings(overrides: Mapping[str, str], defaults: Settings) -> None:
    """CommandError for the first `-s NAME=VALUE` whose name is unknown or whose value does not
    fit its setting's type (true/false, a whole number, a number, an importable function)."""
    for name, value in overrides.items():
        check_setting_name(name)
        default = defaults.get(name)
        kind = DECLARED_TYPES.get(name) or type(default)
        if kind is bool:
            try:
                Settings({name: value}).getbool(name)
            except ValueError:
                raise CommandError(f"-s: {name} must be true or false, got {value!r}") from None
        elif kind in (int, float):
            _number(name, value, kind)
        elif name == "NEWSARCHIVE_EXTRACTOR":
            try:
                function = load_object(value)
            except (ImportError, NameError, ValueError, AttributeError) as error:
                message = f"-s: {name}: cannot import {value!r} ({error})"
                raise CommandError(message) from None
            if not callable(function):
                raise CommandError(f"-s: {name}: {value!r} is not a function")


def iso_date(option: str, value: str | None) -> str | None:
    """`value` as an ISO 8601 date or date and time (normalised), None for None or "";
    CommandError naming `option` for anything else (2026/01/01, yesterday, 2026-13-45)."""
    if not value:
        return None
    text = value.strip()
    try:
        parsed: Any = (date if len(text) <= 10 else datetime).fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"{option}: expected a date like 2026-01-31 (or 2026-01-31T12:00), got {value!r}"
        ) from None
    return parsed.isoformat()


def check_port_free(host: str, port: int) -> None:
    """CommandError unless a server could listen on `host`:`port` right now."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as error:
        raise CommandError(f"--host: cannot listen on {host!r}: {error}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"--port: {host}:{port} is already in use; choose another --port"
                ) from None
            raise CommandError(f"cannot listen on {host}:{port}: {error.strerror}") from None
