"""Reading the archive: datasette configured for it (home page, search, article pages, feeds,
charts) and the search library (`browse.search`).

    browse.serve("archive.db")           # http://127.0.0.1:8001/
    ds = browse.make_datasette("archive.db")   # the same app, e.g. for tests (ds.client)
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.urls import readonly_sqlite_uri

if TYPE_CHECKING:
    from datasette.app import Datasette

HERE = Path(__file__).parent
# The archive is always served under this name, whatever its file is called, so that URLs
# (/archive/articles/1) and the per-database templates and metadata stay the same.
DATABASE = "archive"

# A public, read-only instance: queries are cut off, result sets bounded, nothing downloadable.
SETTINGS = {
    "sql_time_limit_ms": 1000,
    "max_returned_rows": 1000,
    "default_page_size": 50,
    "facet_time_limit_ms": 300,
    "suggest_facets": False,  # suggestions run extra queries on every table page
    "allow_download": False,
    "truncate_cells_html": 300,  # article texts in table views
    "default_cache_ttl": 60,
}


def _has_table(db_path: str, table: str) -> bool:
    conn = sqlite3.connect(readonly_sqlite_uri(db_path), uri=True)
    try:
        row = conn.execute(
            "select 1 from sqlite_master where type = 'table' and name = ?", [table]
        ).fetchone()
        return row is not None
    finally:
        conn.close()


def build_metadata(*, has_similar: bool = False) -> dict[str, Any]:
    """Datasette metadata: metadata.yml plus the canned queries of browse.queries."""
    import yaml

    from browse.queries import canned_queries

    metadata = yaml.safe_load((HERE / "metadata.yml").read_text())
    metadata["databases"][DATABASE]["queries"] = canned_queries(has_similar=has_similar)
    metadata["extra_css_urls"] = ["/browse-static/browse.css"]
    return metadata


def make_datasette(db_path: str | Path) -> Datasette:
    """A Datasette serving the archive at `db_path` read-only, with the project's metadata,
    canned queries, templates, static files and plugin."""
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm

    from browse import plugin

    db_path = str(db_path)
    if not Path(db_path).exists():
        raise FileNotFoundError(f"{db_path} does not exist: run a crawl first")
    if not pm.is_registered(plugin):
        pm.register(plugin, name="newsarchive-browse")
    ds = Datasette(
        metadata=build_metadata(has_similar=_has_table(db_path, "similar_articles")),
        template_dir=str(HERE / "templates"),
        static_mounts=[("browse-static", str(HERE / "static"))],
        settings=SETTINGS,
    )
    ds.remove_database("_memory")
    # Mutable: datasette reads it with mode=ro, and sees what crawls add while it runs.
    ds.add_database(Database(ds, path=db_path, is_mutable=True), name=DATABASE)
    return ds


def serve(db_path: str, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve the archive at http://host:port/ until interrupted (Ctrl-C), then return."""
    import uvicorn

    ds = make_datasette(db_path)
    config = uvicorn.Config(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn handles Ctrl-C; this is a fallback
        uvicorn.Server(config).run()
