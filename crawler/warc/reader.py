"""Reading HTTP captures out of WARC files, local or over http(s), streamed and never loaded
whole, and surviving what real files contain: records that are no responses, HTTP errors,
chunked or compressed payloads, a truncated last record, a corrupt gzip member mid-file.

`read_warc` yields one event per record, in file order, each with the record's offset (the
start of its gzip member in a .warc.gz): a `Capture` for an HTTP response, a `Skipped` for
anything else, with a kind that is counted. A file can be read again from any record's offset,
so an import that stopped goes on where it was.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

GZIP_MAGIC = b"\x1f\x8b\x08"
BLOCK = 1 << 16
# Extension fields our crawls write on response records (warcio keeps unknown fields).
SOURCE_FIELD = "Newsarchive-Source"
HINTS_FIELD = "Newsarchive-Hints"
KIND_FIELD = "Newsarchive-Kind"  # what the crawl took the page for: article, page, feed...


class NotAWarc(ValueError):
    """The file is not a WARC file (an ARC file, or not a web archive at all)."""


@dataclass
class Capture:
    """An HTTP response record: where it is in the file and what it holds (the payload decoded
    from its transfer and content encodings)."""

    offset: int
    url: str
    date: str  # WARC-Date, ISO 8601
    status: int
    headers: list[tuple[str, str]]
    body: bytes = field(repr=False)
    protocol: str = "HTTP/1.1"
    source: str | None = None  # Newsarchive-Source, when a newsarchive crawl wrote it
    hints: dict[str, Any] = field(default_factory=dict)  # Newsarchive-Hints (feed dates)
    kind: str | None = None  # Newsarchive-Kind


@dataclass
class Skipped:
    """A record that holds no usable response: `kind` is its record type (request, metadata,
    revisit...) or, with `error`, what was wrong with it (truncated, corrupt_gzip...)."""

    offset: int
    kind: str
    error: bool = False
    url: str = ""
    date: str = ""
    status: int = 0
    location: str = ""  # a redirect's target
    message: str = ""


def is_url(location: str) -> bool:
    """True for an http(s) URL, False for a local path."""
    return location.startswith(("http://", "https://"))


class _Counting:
    """A read-only stream that counts the bytes read through it (to find a truncated tail)."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data

    def readinto(self, buffer: Any) -> int:  # warcio's readers use read(); kept for io users
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()


def open_at(location: str, offset: int = 0, timeout: float = 60) -> IO[bytes]:
    """A binary stream of a local file or an http(s) URL from byte `offset` on (a Range request;
    a server that ignores it is read past the offset). OSError with a one-line message."""
    if not is_url(location):
        stream = open(location, "rb")  # noqa: SIM115 - the caller closes it
        stream.seek(offset)
        return stream
    request = urllib.request.Request(location, headers={"User-Agent": "newsarchive (WARC import)"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) only
    except urllib.error.HTTPError as error:
        raise OSError(f"{location}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError) as error:
        raise OSError(f"{location}: {getattr(error, 'reason', error)}") from None
    if offset and response.status != 206:  # no ranges: skip what was read before
        left = offset
        while left > 0 and (chunk := response.read(min(left, BLOCK))):
            left -= len(chunk)
    return response


def check_warc(location: str) -> None:
    """Raise NotAWarc (naming the file and what it is) unless `location` starts like a WARC
    file, plain or gzipped; OSError when it cannot be read."""
    with open_at(location) as stream:
        head = stream.read(4096)
    kind = "an empty file" if not head else "not a WARC file"
    if head.startswith(GZIP_MAGIC):
        try:
            head = zlib.decompressobj(31).decompress(head, 64)
        except zlib.error:
            raise NotAWarc(f"{location}: not a WARC file (a corrupt gzip file)") from None
    if head.startswith(b"WARC/"):
        return
    if head.startswith(b"filedesc:"):
        kind = "an ARC file, not WARC (convert it with `warcio recompress` or arc2warc)"
    raise NotAWarc(f"{location}: {kind}")


def _field(record: Any, name: str) -> str:
    return record.rec_headers.get_header(name) or ""


def _capture(record: Any, offset: int, max_size: int) -> Capture | Skipped:
    url = _field(record, "WARC-Target-URI").strip("<>")
    date = _field(record, "WARC-Date")
    http = record.http_headers
    if http is None or not http.statusline:
        return Skipped(offset, "not_http", url=url, date=date)
    try:
        status = int(http.get_statuscode())
    except (TypeError, ValueError):
        return Skipped(offset, "bad_record", error=True, url=url, date=date,
                       message=f"bad HTTP status line {http.statusline!r}")  # fmt: skip
    if not 200 <= status < 300:
        return Skipped(offset, f"http_{status}" if status < 500 else "http_5xx",
                       error=status >= 400, url=url, date=date, status=status,
                       location=http.get_header("Location") or "")  # fmt: skip
    try:
        body = record.content_stream().read(max_size + 1)
    except (zlib.error, OSError, EOFError, ValueError) as error:
        return Skipped(offset, "bad_encoding", error=True, url=url, date=date, message=str(error))
    if len(body) > max_size:
        return Skipped(offset, "too_large", error=True, url=url, date=date)
    if getattr(record.raw_stream, "limit", 0) > 0:  # fewer bytes than Content-Length
        return Skipped(offset, "truncated", error=True, url=url, date=date)
    try:
        hints = json.loads(_field(record, HINTS_FIELD) or "{}")
    except ValueError:
        hints = {}
    return Capture(
        offset=offset,
        url=url,
        date=date,
        status=status,
        headers=[(k, v) for k, v in http.headers if k.lower() != "transfer-encoding"],
        body=body,
        protocol=http.protocol or "HTTP/1.1",
        source=_field(record, SOURCE_FIELD) or None,
        kind=_field(record, KIND_FIELD) or None,
        hints=hints if isinstance(hints, dict) else {},
    )


def _next_member(location: str, after: int, gzipped: bool) -> int | None:
    """The offset of the first gzip member (or plain WARC record) after byte `after`."""
    marker = GZIP_MAGIC if gzipped else b"WARC/1."
    with open_at(location, after) as stream:
        position, tail = after, b""
        while chunk := stream.read(BLOCK):
            data = tail + chunk
            found = data.find(marker)
            if found >= 0:
                return position - len(tail) + found
            tail = data[-(len(marker) - 1) :]
            position += len(chunk)
    return None


def read_warc(
    location: str, offset: int = 0, max_size: int = 8 << 20
) -> Iterator[Capture | Skipped]:
    """Every record of a WARC file from `offset` on, as Capture or Skipped events in file order.

    Damage is reported, never raised: a record that cannot be parsed or a gzip member that
    cannot be inflated is a Skipped("corrupt_gzip" / "bad_record") and reading goes on at the
    next member; a truncated last record is a Skipped("truncated"). OSError only when the file
    cannot be opened at all (or the connection breaks).
    """
    gzipped = None
    start = offset
    resyncing = False  # a guessed member start that fails is no new damage
    while start is not None:
        stream = _Counting(open_at(location, start))
        iterator = ArchiveIterator(stream, ensure_http_headers=False)
        end = start
        try:
            for record in iterator:
                if gzipped is None:
                    gzipped = iterator.reader.decompressor is not None
                resyncing = False
                kind = record.rec_type
                if kind != "response":
                    url = _field(record, "WARC-Target-URI")
                    event: Capture | Skipped = Skipped(0, kind or "unknown", url=url)
                else:
                    event = _capture(record, 0, max_size)
                # Only now: warcio reads the record to its end to know where it ends.
                event.offset = start + iterator.get_record_offset()
                end = event.offset + iterator.get_record_length()
                yield event
        except (ArchiveLoadFailed, zlib.error, EOFError, ValueError) as error:
            damaged = start + (iterator.offset if hasattr(iterator, "offset") else 0)
            damaged = max(damaged, end)
            if not resyncing:
                kind = "corrupt_gzip" if gzipped or isinstance(error, zlib.error) else "bad_record"
                yield Skipped(damaged, kind, error=True, message=str(error).splitlines()[0][:200])
            resyncing = True
            start = _next_member(location, damaged + 1, gzipped is not False)
            continue
        finally:
            stream.close()
        # Bytes after the last whole record (beyond a plain record's closing CRLFs): cut off.
        if start + stream.count > end + (0 if gzipped else 4):
            yield Skipped(end, "truncated", error=True, message="the file ends inside a record")
        return
