"""Every NEWSARCHIVE_* setting is declared once, in crawler/settings.py, and the README lists it
(as sqlite-utils checks its CLI docs); no module reads a setting that is not declared."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SETTINGS_FILE = ROOT / "crawler" / "settings.py"
NAME = re.compile(r"\bNEWSARCHIVE_[A-Z0-9_]*[A-Z0-9]\b")
# Read from the environment, not from Scrapy settings: documented too, declared nowhere.
ENVIRONMENT_VARIABLES = {"NEWSARCHIVE_WORKER_NICE"}


def declared() -> list[str]:
    return re.findall(r"^(NEWSARCHIVE_[A-Z0-9_]+)\s*[:=]", SETTINGS_FILE.read_text(), re.M)


def used_in_code() -> dict[str, str]:
    used = {}
    for package in ("crawler", "pipelines", "newsarchive", "browse"):
        for path in (ROOT / package).rglob("*.py"):
            if path == SETTINGS_FILE:
                continue
            for name in NAME.findall(path.read_text(encoding="utf-8")):
                used.setdefault(name, str(path.relative_to(ROOT)))
    return used


def test_settings_are_declared_once():
    names = declared()
    assert len(names) > 15
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_every_setting_the_code_reads_is_declared():
    undeclared = {
        name: where
        for name, where in used_in_code().items()
        if name not in declared() and name not in ENVIRONMENT_VARIABLES
    }
    assert undeclared == {}


@pytest.mark.parametrize("name", sorted({*declared(), *ENVIRONMENT_VARIABLES, "ARCHIVE_DB"}))
def test_setting_is_in_the_readme(name):
    assert f"`{name}`" in README, f"{name} is not documented in README.md"
