"""The archive's datasette (browse.make_datasette), through its real app and test client."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

import pytest

from browse import make_datasette
from pipelines.archive import open_archive

P = "\n"  # paragraphs of an extracted text are lines

ARTICLES = [
    {
        "id": 1,
        "url": "https://herald.example/world/ceasefire-talks",
        "source": "herald",
        "site_name": "The Daily Herald",
        "title": "Ceasefire talks resume in Cairo",
        "authors": ["Anna Adams"],
        "published": "2025-03-01T10:00:00Z",
        "language": "en",
        "description": "Negotiators meet again.",
        "text": P.join(
            [
                "Ceasefire talks resumed in Cairo on Saturday, officials said.",
                "The talks on a ceasefire are the first since January.",
                "Mediators hope for a deal within days.",
            ]
        ),
        "version": 2,
    },
    {
        "id": 2,
        "url": "https://metro.example/politics/snap-election",
        "source": "metro",
        "site_name": "Metro Wire",
        "title": "Prime minister calls snap election",
        "authors": ["Ben Becker", "Carla Costa"],
        "published": "2025-03-02T08:30:00Z",
        "language": "en",
        "text": P.join(
            [
                "The prime minister called a snap election for May.",
                "Opposition parties said they were ready; a ceasefire was not mentioned.",
            ]
        ),
    },
    {
        "id": 3,
        "url": "https://rundschau.example/politik/haushalt",
        "source": "rundschau",
        "site_name": "Rundschau",
        "title": "Regierung plant neuen Haushalt",
        "authors": ["Karin Fischer"],
        "published": "2025-02-15",
        "language": "de",
        "text": "Die Regierung plant einen neuen Haushalt. Die Minister beraten.",
    },
    {
        "id": 4,
        "url": "https://metro.example/health/covid-19-vaccines",
        "source": "metro",
        "site_name": "Metro Wire",
        "title": "Covid-19 vaccine rollout speeds up",
        "authors": ["Ben Becker"],
        "published": "2025-01-10T12:00:00Z",
        "language": "en",
        "text": "The covid-19 vaccine rollout reached elderly patients, the minister said.",
    },
    {
        "id": 5,
        "url": "https://herald.example/tech/<script>",
        "source": "herald",
        "site_name": "The Daily Herald",
        "title": "Hackers post <script>alert('x')</script> in comments",
        "authors": [],
        "published": "2025-02-20T09:00:00Z",
        "language": "en",
        "text": "A post said <b>bold</b> and <script>alert('x')</script> on the ministry site.",
    },
]


def make_archive(path: Path, articles: list[dict] = ARTICLES) -> Path:
    """An archive created by the project's own schema, holding `articles`, two crawl runs,
    one earlier version of article 1 and the raw HTML of article 5."""
    db = open_archive(path)
    db["crawl_runs"].insert_all(
        [
            {"id": 1, "started": "2025-03-01T06:00:00Z", "ended": "2025-03-01T06:05:00Z",
             "status": "completed", "finish_reason": "finished", "spider": "news",
             "pages_fetched": 12, "articles_new": 4, "errors": 0},
            {"id": 2, "started": "2025-03-02T06:00:00Z", "ended": "2025-03-02T06:02:00Z",
             "status": "failed", "finish_reason": "shutdown", "spider": "news",
             "pages_fetched": 3, "articles_new": 1, "articles_updated": 1, "errors": 2,
             "error_kinds": json.dumps({"timeout": 2})},
        ]
    )
    for article in articles:
        row = {
            "first_seen": article["published"],
            "last_seen": "2025-03-02T06:01:00Z",
            "last_changed": article["published"],
            "version": 1,
            "run_id": 1,
            "tags": "[]",
            "categories": "[]",
            **article,
        }
        row["authors"] = json.dumps(article["authors"])
        row["word_count"] = len(article["text"].split())
        db["articles"].insert(row)
    db["article_versions"].insert(
        {
            "article_id": 1,
            "version": 1,
            "title": "Ceasefire talks to resume",
            "text": "Talks were due to resume.\nNo date was set.",
            "word_count": 9,
            "first_seen": "2025-02-28T06:00:00Z",
            "last_seen": "2025-03-01T06:00:00Z",
            "run_id": 1,
        }
    )
    html = b"<html><body><script>alert('raw')</script><p>RAW-HTML-MARKER</p></body></html>"
    db["article_html"].insert(
        {"article_id": 5, "url": ARTICLES[4]["url"], "fetched_at": "2025-02-20T09:05:00Z",
         "status": 200, "content_type": "text/html", "encoding": "utf-8", "size": len(html),
         "html": zlib.compress(html)}
    )
    db.close()
    return path


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return make_archive(tmp_path_factory.mktemp("archive") / "archive.db")


@pytest.fixture(scope="module")
def ds(archive):
    return make_datasette(archive)
