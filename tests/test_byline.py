"""The byline as published and the people in it: every shape of credit, storage and migration."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from crawler.compression import compress_html
from newsarchive.reextract import reextract_file
from pipelines.archive.schema import migrations, open_archive
from pipelines.article.authors import clean_byline, people_in
from pipelines.article.core import extract_article

BYLINES = Path(__file__).parent / "fixtures" / "bylines"
SEED = Path(__file__).parent / "fixtures" / "extraction" / "seed-article.html"

# fixture page -> (byline, authors)
CASES = {
    "single-name": ("Susan", ["Susan"]),
    "lower-case": ("kirstin boatto", ["Kirstin Boatto"]),
    "two-names-ampersand": ("Maria & Katerina", ["Maria", "Katerina"]),
    "organisation": ("Help Net Security", []),
    "desk": ("Herald Lifestyle Desk", []),
    "team": ("Camphouse Team", []),
    "credentials": ("Dylan Bailey, MS, RD, FAND", ["Dylan Bailey"]),
    "two-people": ("Jane Doe, John Smith", ["Jane Doe", "John Smith"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_byline_shape(name: str) -> None:
    html = (BYLINES / f"{name}.html").read_text(encoding="utf-8")
    doc = extract_article(html, f"https://news.example/2025/{name}/")
    assert doc is not None
    assert (doc["byline"], doc["authors"]) == CASES[name]


def test_seed_desk_fills_the_byline_but_names_nobody() -> None:
    doc = extract_article(SEED.read_bytes(), "https://dailyledger.example/2025/05/15/x/")
    assert doc["byline"] == "Staff Desk"
    assert doc["authors"] == []


def test_page_without_a_credit_has_no_byline() -> None:
    html = (BYLINES / "team.html").read_text(encoding="utf-8")
    html = html.replace('<meta name="author" content="Camphouse Team">', "")
    doc = extract_article(html, "https://news.example/a/")
    assert (doc["byline"], doc["authors"]) == (None, [])


@pytest.mark.parametrize(
    ("raw", "byline"),
    [
        ("By Jane Doe | May 15, 2025", "Jane Doe"),
        ("Written by: Jane Doe", "Jane Doe"),
        ("Author: Isaiah Shelton", "Isaiah Shelton"),
        ("Read more about The Upwork Team", "The Upwork Team"),
        ("Russell MillerDec 3, 2025", "Russell Miller"),
        ("jane.doe@example.com", ""),
        ("https://example.com/authors/jane", ""),
        ("May 15, 2025", ""),
    ],
)
def test_clean_byline(raw: str, byline: str) -> None:
    assert clean_byline(raw) == byline


@pytest.mark.parametrize(
    ("byline", "people"),
    [
        ("Linny and Peter", ["Linny", "Peter"]),
        ("Dr. Vahid Osman", ["Vahid Osman"]),
        ("Sarah Knowles MW", ["Sarah Knowles"]),
        ("Angela Holliday-Bell, MD", ["Angela Holliday-Bell"]),
        ("Paul Frew, Home and Digital Security Expert", ["Paul Frew"]),
        ("Mayank Gupta, CEO of CaseBasix", ["Mayank Gupta"]),
        ("TOI Lifestyle Desk", []),
        ("aawoods", []),  # a handle
        ("EcoFlow", []),  # a brand
    ],
)
def test_people_in_a_byline(byline: str, people: list[str]) -> None:
    assert people_in(byline) == people


def test_the_sites_own_name_is_no_person() -> None:
    assert people_in("Swoogo", None, "https://swoogo.events/blog/skills") == []
    assert people_in("Heather Handmade", "Heather Handmade") == []


def _old_archive(path: Path) -> None:
    """An archive as the release before `byline` made it, with one article and its HTML."""
    db = sqlite_utils.Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m006_article_markdown")
    assert "byline" not in db["articles"].columns_dict
    html = (BYLINES / "credentials.html").read_bytes()
    db["articles"].insert(
        {
            "id": 1,
            "url": "https://news.example/2025/trends/",
            "source": "news",
            "title": "Five nutrition trends for 2025",
            "authors": json.dumps(["Dylan Bailey"]),
            "text": "old text",
            "content_hash": "x",
            "first_seen": "2025-01-01T00:00:00Z",
            "last_seen": "2025-01-01T00:00:00Z",
            "last_changed": "2025-01-01T00:00:00Z",
            "version": 1,
        }
    )
    db["article_html"].insert(
        {
            "article_id": 1,
            "url": "https://news.example/2025/trends/",
            "fetched_at": "2025-01-01T00:00:00Z",
            "status": 200,
            "content_type": "text/html",
            "encoding": "utf-8",
            "size": len(html),
            "html": compress_html(html),
        }
    )
    db.conn.commit()
    db.close()


def test_old_archive_gets_the_column_and_reextract_fills_it(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    _old_archive(path)
    db = open_archive(path)
    assert db["articles"].columns_dict["byline"] is str
    assert db.execute("select byline from articles").fetchone() == (None,)
    db.close()
    assert "Re-extracted 1 articles" in reextract_file(str(path))
    db = open_archive(path, readonly=True)
    row = db.execute("select byline, authors from articles where id = 1").fetchone()
    db.close()
    assert row == ("Dylan Bailey, MS, RD, FAND", '["Dylan Bailey"]')
