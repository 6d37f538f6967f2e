"""Reading the archive: the datasette plugin (`browse.plugin`: home page, search, article pages,
feeds, charts for any database that is an archive) and the search library (`browse.search`).

    browse.serve("archive.db")           # http://127.0.0.1:8001/
    ds = browse.make_datasette("archive.db")   # the same app, e.g. for tests (ds.client)
    $ datasette archive.db               # the same pages, from the plugin's entry point
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasette.app import Datasette

# `newsarchive serve` serves the archive under this name, whatever its file is called, so that
# its URLs (/archive/articles/1) stay the same. The plugin itself works under any name.
DATABASE = "archive"
# The datasette plugin, registered by the `datasette` entry point in pyproject.toml.
PLUGIN_MODULE = "browse.plugin"

# A public, read-only instance: queries are cut off, result sets bounded, nothing downloadable.
# A plugin cannot set these: `datasette archive.db --setting NAME VALUE` passes them (README).
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


class PluginNotInstalledError(RuntimeError):
    """The archive's datasette plugin is not registered: the package is not installed."""


def make_datasette(db_path: str | Path) -> Datasette:
    """A Datasette serving the archive at `db_path` read-only under the name "archive", with
    SETTINGS. Its pages, metadata and canned queries come from the plugin (browse.plugin,
    registered by the package's `datasette` entry point), as for `datasette archive.db`."""
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm

    db_path = str(db_path)
    if not Path(db_path).exists():
        raise FileNotFoundError(f"{db_path} does not exist: run a crawl first")
    if PLUGIN_MODULE not in {getattr(plugin, "__name__", "") for plugin in pm.get_plugins()}:
        raise PluginNotInstalledError(
            f"datasette has no {PLUGIN_MODULE} plugin: install the package (pip install -e .)"
        )
    ds = Datasette(settings=SETTINGS)
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
