"""The archive's datasette plugin under plain `Datasette([path])` (what `datasette mynews.db`
builds): an archive is recognised by its tables whatever its file is called, and gets the same
pages as `newsarchive serve`; a database that is not an archive is left as datasette shows it."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from urllib.parse import urlencode

import pytest
from datasette.app import Datasette

from browse import SETTINGS, make_datasette
from tests.test_browse import _feed, get, make_archive


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("plain")
    archive = make_archive(folder / "mynews.db")
    # Not an archive, though it has an `articles` table and a search index on it.
    notes = folder / "notes.db"
    conn = sqlite3.connect(notes)
    conn.executescript(
        """
        create table articles (id integer primary key, title text, text text);
        insert into articles values (1, 'Shopping list', 'Milk and ceasefire biscuits');
        create virtual table articles_fts using fts5(title, text, content=articles);
        insert into articles_fts (rowid, title, text) select id, title, text from articles;
        """
    )
    conn.commit()
    conn.close()
    return {"archive": archive, "notes": notes}


@pytest.fixture(scope="module")
def plain(files) -> Datasette:
    """Datasette as `datasette mynews.db notes.db` makes it: no metadata, and no settings but
    a longer time limit (a loaded CI machine once took over datasette's 1 s for the search page
    of five articles; timing is not what these tests check)."""
    return Datasette(
        [str(files["archive"]), str(files["notes"])], settings={"sql_time_limit_ms": 10_000}
    )


@pytest.fixture(scope="module")
def served(files) -> Datasette:
    """The same archive as `newsarchive serve` serves it (under the name "archive")."""
    return make_datasette(files["archive"])


def content(html: str, name: str) -> str:
    """The content of a page, with the database's name as `newsarchive serve` has it and
    without the time its queries took."""
    html = html.split('<section class="content">', 1)[1].split("</section>", 1)[0]
    return re.sub(r"took [0-9.]+ms", "took", html.replace(name, "archive"))


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/DB/search?q=ceasefire",
        "/DB/search?" + urlencode({"q": '"abc'}),
        "/DB/articles/1",
        "/DB/articles/5",
        "/DB/article_versions/1",
        "/DB/articles?source=metro",
        "/DB/articles_per_day",
    ],
)
def test_pages_of_an_archive_named_otherwise_are_those_of_newsarchive_serve(files, served, path):
    # `datasette mynews.db --setting ...` with the settings of newsarchive serve (README)
    plain = Datasette([str(files["archive"])], settings=SETTINGS)
    page = get(plain, path.replace("DB", "mynews"))
    expected = get(served, path.replace("DB", "archive"))
    assert page.status_code == expected.status_code
    assert content(page.text, "mynews") == content(expected.text, "archive")


def test_home_search_and_article_pages_show_the_archive(plain):
    home = get(plain, "/").text
    assert "5 articles from 3 sources" in home
    assert 'action="/mynews/search"' in home
    assert '<a href="/mynews/articles/1">Ceasefire talks resume in Cairo</a>' in home
    search = get(plain, "/mynews/search?q=ceasefire").text
    assert "<mark>ceasefire</mark>" in search
    article = get(plain, "/mynews/articles/1").text
    assert "<h1>Ceasefire talks resume in Cairo</h1>" in article
    assert '<a href="/mynews/article_versions/1">Version 1</a>' in article


def test_styles_come_from_the_plugins_static_folder(plain):
    css = "/-/static-plugins/newsarchive/browse.css"
    assert f'href="{css}"' in get(plain, "/").text
    assert f'href="{css}"' in get(plain, "/mynews/articles/1").text
    response = get(plain, css)
    assert response.status_code == 200 and ".archive-search" in response.text
    assert css not in get(plain, "/notes").text


def test_canned_queries_and_descriptions_are_those_of_newsarchive_serve(plain, served):
    names = [q["name"] for q in get(plain, "/mynews.json").json()["queries"]]
    assert names == [q["name"] for q in get(served, "/archive.json").json()["queries"]]
    assert {"search", "search_feed", "latest_articles", "articles_feed", "sources"} <= set(names)
    assert plain.metadata("databases")["mynews"] == served.metadata("databases")["archive"]
    assert plain.metadata("description", database="mynews", table="articles").startswith(
        "One row per article"
    )
    rows = get(plain, "/mynews/sources.json?_shape=array").json()
    assert {row["source"]: row["articles"] for row in rows}["herald"] == 2


def test_atom_feeds_under_another_name(plain):
    entries = _feed(plain, "/mynews/search_feed.atom?q=ceasefire")
    assert {e["title"] for e in entries} == {
        "Ceasefire talks resume in Cairo",
        "Prime minister calls snap election",
    }
    assert _feed(plain, "/mynews/search_feed.atom?q=nothingmatches") == []
    table = get(plain, "/mynews/articles?source=metro").text
    assert 'href="/mynews/articles_feed.atom?source=metro"' in table
    assert len(_feed(plain, "/mynews/articles_feed.atom?source=metro")) == 2


def test_bad_table_search_is_explained_under_another_name(plain):
    page = get(plain, "/mynews/articles?" + urlencode({"_search": '"abc'}))
    assert page.status_code == 400 and "double quote" in page.text


def test_a_database_that_is_not_an_archive_is_left_as_datasette_shows_it(plain):
    assert get(plain, "/notes.json").json()["queries"] == []
    assert get(plain, "/notes/search").status_code == 404
    assert plain.metadata("description", database="notes", table="articles", fallback=False) is None
    row = get(plain, "/notes/articles/1").text
    assert "Shopping list" in row  # datasette's own row page, not an article page
    assert "archived-article" not in row and "article-page" not in row
    table = get(plain, "/notes/articles").text
    assert "Shopping list" in table and "Atom feed of this view" not in table
    # No archive SQL functions on its connections, no archive error pages for its searches.
    data = get(plain, "/notes.json?" + urlencode({"sql": "select fts_query('a-b')"})).json()
    assert data["ok"] is False and "fts_query" in data["error"]
    page = get(plain, "/notes/articles?" + urlencode({"_search": '"abc'}))
    assert "Search query error" not in page.text


def test_home_page_of_an_instance_without_archive_is_datasettes(files):
    ds = Datasette([str(files["notes"])])
    home = get(ds, "/")
    assert home.status_code == 200
    assert re.search(r'<a href="/notes">notes</a>', home.text)
    assert "archive-home" not in home.text and "static-plugins/newsarchive" not in home.text
    assert ds.metadata("title") is None


def test_a_file_name_that_needs_escaping_in_urls(tmp_path):
    ds = Datasette([str(make_archive(tmp_path / "news.2025.db"))])
    home = get(ds, "/").text
    assert 'action="/news~2E2025/search"' in home
    assert "<mark>ceasefire</mark>" in get(ds, "/news~2E2025/search?q=ceasefire").text
    page = get(ds, "/news~2E2025/articles?" + urlencode({"_search": "talks AND"}))
    assert page.status_code == 400 and "ends too early" in page.text


def test_newsarchive_serve_uses_the_entry_point_plugin(served):
    plugins = {p["name"]: p for p in get(served, "/-/plugins.json").json()}
    assert plugins["newsarchive"]["templates"] is True
    assert plugins["newsarchive"]["static"] is True
    assert "get_metadata" in plugins["newsarchive"]["hooks"]
    assert "canned_queries" in plugins["newsarchive"]["hooks"]
