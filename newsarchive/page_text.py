"""What the archive would store for pages given by hand: a saved page, a folder of saved pages
or a live URL, through exactly the extraction a crawl uses (`newsarchive extract`)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from crawler.settings import USER_AGENT
from crawler.sources import check_url
from newsarchive.errors import CommandError
from pipelines.article.core import extract_article

FETCH_TIMEOUT = 30


def extracted_pages(target: str, url: str | None = None, as_json: bool = False) -> Iterator[str]:
    """The extracted text (or JSON with all metadata) of each page of `target`, a file, a
    folder of .html/.htm files or an http(s) URL; `url` is the page's original address.
    CommandError for a target that cannot be read or a single page with no article text."""
    if target.startswith(("http://", "https://")):
        try:
            html = fetch(check_url(target))
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot fetch {target}: {error}") from error
        yield _one(target, html, url or target, as_json)
        return
    path = Path(target)
    try:
        if path.is_dir():
            files = sorted(path.rglob("*.html")) + sorted(path.rglob("*.htm"))
            if not files:
                raise CommandError(f"{target}: no .html or .htm files in this directory")
            for file in files:
                text = _render(file.read_bytes(), url, as_json, path=str(file))
                yield text if as_json else f"==> {file} <==\n{text}\n"
            return
        if not path.is_file():
            raise CommandError(f"{target}: no such file, directory or URL")
        yield _one(target, path.read_bytes(), url, as_json)
    except OSError as error:
        raise CommandError(f"cannot read {error.filename or target}: {error.strerror}") from error


def fetch(url: str) -> bytes:
    """The body of an http(s) URL, fetched with the crawler's User-Agent."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
        return response.read()


def _one(target: str, html: bytes, url: str | None, as_json: bool) -> str:
    output = _render(html, url, as_json)
    if not as_json and not output:
        raise CommandError(f"{target}: no article text found")
    return output


def _render(html: bytes, url: str | None, as_json: bool, path: str | None = None) -> str:
    article = extract_article(html, url)
    if not as_json:
        return article["text"] if article else ""
    record = {"path": path, "url": url, **(article or {"text": None})}
    if not path:
        del record["path"]
    return json.dumps(record, ensure_ascii=False)
