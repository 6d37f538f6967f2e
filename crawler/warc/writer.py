"""Writing WARC 1.1 files with warcio: request and response records with their HTTP headers and
WARC-Payload-Digest, one gzip member per record, a warcinfo record first, files rotated at a
size limit and named as Heritrix names its own (PREFIX-TIMESTAMP-SERIAL-HOST.warc.gz), and a
CDXJ index beside each closed file (cdxj-indexer) so pywb can replay it.

A file is written as NAME.warc.gz.open and renamed when closed, as other crawlers do: a file
without .open is complete.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.warc.reader import HINTS_FIELD, KIND_FIELD, SOURCE_FIELD

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
# Hop-by-hop: the body is written as received after de-chunking, so no chunked framing.
HOP_BY_HOP = {"transfer-encoding", "connection", "keep-alive"}

Header = tuple[str, str]


def warc_name(prefix: str, serial: int, when: datetime | None = None) -> str:
    """A file name like Heritrix's: PREFIX-YYYYMMDDhhmmssSSS-SERIAL-HOST-PID.warc.gz."""
    when = when or datetime.now(UTC)
    stamp = when.strftime("%Y%m%d%H%M%S") + f"{when.microsecond // 1000:03d}"
    return f"{prefix}-{stamp}-{serial:05d}-{socket.gethostname()}-{os.getpid()}.warc.gz"


def write_cdxj(path: Path) -> Path | None:
    """Index a WARC file into PATH-without-.warc.gz.cdxj (sorted, for pywb); None if it fails."""
    from cdxj_indexer.main import write_cdx_index

    index = path.with_name(path.name.removesuffix(".gz").removesuffix(".warc") + ".cdxj")
    try:
        write_cdx_index(str(index), [str(path)], {"sort": True})
    except Exception as error:  # noqa: BLE001 - the WARC file is fine without its index
        logger.warning("cannot index %s: %s", path, error)
        return None
    return index


class WarcFile:
    """One WARC file being written; `close()` renames it to its final name (and indexes it)."""

    def __init__(self, path: str | Path, info: dict[str, str], cdxj: bool = False):
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".open")
        self.cdxj = cdxj
        self.stream = open(self.partial, "wb")  # noqa: SIM115 - closed in close()
        self.writer = WARCWriter(self.stream, gzip=True, warc_version=WARC_VERSION)
        self.writer.write_record(self.writer.create_warcinfo_record(self.path.name, info))

    @property
    def size(self) -> int:
        return self.stream.tell()

    def write_response(
        self,
        url: str,
        status: int,
        headers: Iterable[Header],
        body: bytes,
        *,
        protocol: str = "HTTP/1.1",
        date: str | None = None,
        fields: dict[str, str] | None = None,
        request: tuple[str, Iterable[Header]] | None = None,
    ) -> None:
        """A response record (and, given `request` as (method, headers), its request record)."""
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        http = StatusAndHeaders(
            f"{status} {reason}".strip(),
            [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP],
            protocol=protocol or "HTTP/1.1",
        )
        warc_fields = {k: v for k, v in (fields or {}).items() if v}
        if date:
            warc_fields["WARC-Date"] = date
        response = self.writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http,
            warc_headers_dict=warc_fields,
        )  # fmt: skip
        self.writer.write_record(response)
        if request is None:
            return
        method, request_headers = request
        parts = url.split("/", 3)
        target = "/" + (parts[3] if len(parts) > 3 else "")
        request_http = StatusAndHeaders(
            f"{method} {target} HTTP/1.1", list(request_headers), is_http_request=True
        )
        concurrent = {
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            "WARC-Date": response.rec_headers.get_header("WARC-Date"),
        }
        self.writer.write_record(
            self.writer.create_warc_record(
                url, "request", http_headers=request_http, warc_headers_dict=concurrent
            )
        )

    def close(self) -> Path:
        """Finish the file: its final name, and its CDXJ index beside it if asked for."""
        self.stream.close()
        os.replace(self.partial, self.path)
        if self.cdxj:
            write_cdxj(self.path)
        return self.path


class RotatingWarcFiles:
    """WARC files in `directory`, a new one (with its own warcinfo) once one reaches
    `max_size` bytes."""

    def __init__(
        self,
        directory: str | Path,
        info: dict[str, str],
        *,
        prefix: str = "newsarchive",
        max_size: int = 1_000_000_000,
        cdxj: bool = True,
    ):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.info = info
        self.prefix = prefix
        self.max_size = max_size
        self.cdxj = cdxj
        self.serial = 0
        self.current: WarcFile | None = None
        self.closed: list[Path] = []

    def file(self) -> WarcFile:
        """The file to write the next records into (rotating first if this one is full)."""
        if self.current is not None and self.current.size >= self.max_size:
            self.closed.append(self.current.close())
            self.current = None
        if self.current is None:
            path = self.directory / warc_name(self.prefix, self.serial)
            self.serial += 1
            self.current = WarcFile(path, self.info, cdxj=self.cdxj)
        return self.current

    def close(self) -> list[Path]:
        """Close the open file; every file written, in order."""
        if self.current is not None:
            self.closed.append(self.current.close())
            self.current = None
        return self.closed


def crawl_fields(source: str | None, hints: dict | None, kind: str | None = None) -> dict[str, str]:
    """Our extension fields on a response record: its source, what the crawl took it for
    (article, page, frontpage, feed, sitemap) and its feed or sitemap dates, so that an import
    of the file archives it as the crawl did."""
    fields = {SOURCE_FIELD: source or "", KIND_FIELD: kind or ""}
    if hints:
        fields[HINTS_FIELD] = json.dumps(hints, default=str, sort_keys=True)
    return fields
