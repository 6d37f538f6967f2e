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
from pipelines.article.core import article_text, extract_article

FETCH_TIMEOUT = 30


FORMATS = ("text", "markdown", "json")


def extracted_pages(
    target: str, url: str | None = None, output_format: str = "text"
) -> Iterator[str]:
    """What the archive would store for each page of `target`, a file, a folder of .html/.htm
    files or an http(s) URL, in `output_format`: the plain text, the markdown body (headings,
    lists, quotes) or JSON with all metadata. `url` is the page's original address.
    CommandError for a target that cannot be read or a single page with no article text."""
    if output_format not in FORMATS:
        raise CommandError(f"unknown format {output_format!r}: use {', '.join(FORMATS)}")
    as_json = output_format == "json"
    if target.startswith(("http://", "https://")):
        try:
            html = fetch(check_url(target))
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot fetch {target}: {error}") from error
        yield _one(target, html, url or target, output_format)
        return
    path = Path(target)
    try:
        if path.is_dir():
            files = sorted(path.rglob("*.html")) + sorted(path.rglob("*.htm"))
            if not files:
                raise CommandError(f"{target}: no .html or .htm files in this directory")
            for file in files:
                text = _render(file.read_bytes(), url, output_format, path=str(file))
                yield text if as_json else f"==> {file} <==\n{text}\n"
            return
        if not path.is_file():
            raise CommandError(f"{target}: no such file, directory or URL")
        yield _one(target, path.read_bytes(), url, output_format)
    except OSError as error:
        raise CommandError(f"cannot read {error.filename or target}: {error.strerror}") from error


def fetch(url: str) -> bytes:
    """The body of an http(s) URL, fetched with the crawler's User-Agent."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
        return response.read()


def _one(target: str, html: bytes, url: str | None, output_format: str) -> str:
    output = _render(html, url, output_format)
    if output_format != "json" and not output:
        raise CommandError(f"{target}: no article text found")
    return output


def _render(html: bytes, url: str | None, output_format: str, path: str | None = None) -> str:
    if output_format == "text":  # the same text, without the metadata work
        return article_text(html, url) or ""
    article = extract_article(html, url)
    if output_format != "json":
        return (article.get(output_format) or "") if article else ""
    record = {"path": path, "url": url, **(article or {"text": None})}
    if not path:
        del record["path"]
    return json.dumps(record, ensure_ascii=False)
