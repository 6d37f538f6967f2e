"""Reading HTTP captures out of WARC files, local or over http(s), streamed and never loaded
whole, and surviving what real files contain: records that are no responses, HTTP errors,
chunked or compressed payloads, a truncated last record, a corrupt gzip member mid-file.

`read_warc` yields one event per record, in file order, each with the record's offset (the
start of its gzip member in a .warc.gz): a `Capture` for an HTTP response, a `Skipped` for
anything else, with a kind that is counted. A file can be read again from any record's offset,
so an import that stopped goes on where it was.

Records are parsed by fastwarc, three times as fast as warcio here (0.09 against 0.27 ms a
record of `bench.warc`'s file): reading is done in the import's own process, beside the
extraction workers, so every bit counts. Payloads are decoded by warcio's readers, as before.
"""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from fastwarc.warc import ArchiveIterator, WarcRecordType
from warcio.bufferedreaders import BufferedReader, ChunkedDataReader

GZIP_MAGIC = b"\x1f\x8b\x08"
BLOCK = 1 << 16
MAX_HEADER = 1 << 20  # a WARC record's header, at most (to find where a record ends)
CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r?$")
# Extension fields our crawls write on response records.
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


class _Source:
    """A file's stream as the WARC parser reads it, keeping its first bytes (gzip or not) and the
    error reading it raised, if any: a broken connection is the file's failure, not damage."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.head = b""
        self.position = 0
        self.failed: OSError | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            data = self.raw.read(size)
        except OSError as error:
            self.failed = error
            raise
        if len(self.head) < len(GZIP_MAGIC):
            self.head += data[: len(GZIP_MAGIC) - len(self.head)]
        self.position += len(data)
        return data

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # A stream (a URL's) goes forward only; the parser only asks where it is.
        if (whence, offset) not in ((io.SEEK_CUR, 0), (io.SEEK_SET, self.position)):
            raise io.UnsupportedOperation("seek")
        return self.position

    def close(self) -> None:
        self.raw.close()


def open_at(location: str, offset: int = 0, timeout: float = 60) -> IO[bytes]:
    """A binary stream of a local file or an http(s) URL from byte `offset` on (a Range request;
    a server that ignores it is read past the offset; an offset past the end gives an empty
    stream). OSError with a one-line message."""
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
        if error.code == 416 and offset:  # the file ends before `offset`: nothing from there on
            return io.BytesIO(b"")
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


def _decoded(payload: bytes, http: Any) -> bytes:
    """The payload with its transfer and content encodings undone, as warcio's content_stream
    decodes them (chunked; gzip, deflate, brotli; an unknown coding is left as is)."""
    coding = (http.get("Content-Encoding") or "").lower() or None
    if coding not in BufferedReader.get_supported_decompressors():
        coding = None
    chunked = http.get("Transfer-Encoding") == "chunked"
    if not chunked and coding is None:
        return payload
    reader = ChunkedDataReader if chunked else BufferedReader
    return reader(io.BytesIO(payload), decomp_type=coding).read()


def _truncated(record: Any, read: int) -> bool:
    """Whether the file ended inside this record: no whole Content-Length (cut off in its
    header) or fewer bytes than it says."""
    declared = (record.headers.get("Content-Length") or "").strip()
    return not declared.isdigit() or read < record.content_length


def _event(record: Any, offset: int, max_size: int) -> Capture | Skipped:
    """The event of one record (its body read to its end, so that the next one can be)."""
    headers = record.headers
    url = (headers.get("WARC-Target-URI") or "").strip("<>")
    date = headers.get("WARC-Date") or ""
    response = record.record_type == WarcRecordType.response
    if response and record.is_http:
        record.parse_http()  # content_length is now the payload's
    http = record.http_headers if response and record.is_http else None
    status = http.status_code if http is not None and http.status_line else None
    if status is None or not 200 <= status < 300:  # nothing to read: where it ends is all
        if _truncated(record, record.consume()):
            return Skipped(offset, "truncated", error=True, url=url, date=date,
                           message="the file ends inside a record")  # fmt: skip
        if not response:
            return Skipped(offset, headers.get("WARC-Type") or "unknown", url=url)
        if http is None or not http.status_line:
            return Skipped(offset, "not_http", url=url, date=date)
        if status is None:
            return Skipped(offset, "bad_record", error=True, url=url, date=date,
                           message=f"bad HTTP status line {http.status_line!r}")  # fmt: skip
        return Skipped(offset, f"http_{status}" if status < 500 else "http_5xx",
                       error=status >= 400, url=url, date=date, status=status,
                       location=http.get("Location") or "")  # fmt: skip
    payload = record.reader.read(max_size + 1)
    if len(payload) > max_size:
        record.consume()
        return Skipped(offset, "too_large", error=True, url=url, date=date)
    if _truncated(record, len(payload)):
        return Skipped(offset, "truncated", error=True, url=url, date=date)
    try:
        body = _decoded(payload, http)
    except (zlib.error, OSError, EOFError, ValueError) as error:
        return Skipped(offset, "bad_encoding", error=True, url=url, date=date, message=str(error))
    if len(body) > max_size:
        return Skipped(offset, "too_large", error=True, url=url, date=date)
    try:
        hints = json.loads(headers.get(HINTS_FIELD) or "{}")
    except ValueError:
        hints = {}
    protocol = http.status_line.split(" ", 1)[0]
    return Capture(
        offset=offset,
        url=url,
        date=date,
        status=status,
        headers=[(k, v) for k, v in http.items() if k.lower() != "transfer-encoding"],
        body=body,
        protocol=protocol if protocol.startswith("HTTP/") else "HTTP/1.1",
        source=headers.get(SOURCE_FIELD) or None,
        kind=headers.get(KIND_FIELD) or None,
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


def _record_end(location: str, offset: int, gzipped: bool) -> int | None:
    """Where the record (in a .warc.gz, the gzip member) starting at `offset` ends; None when
    the file ends inside it."""
    with open_at(location, offset) as stream:
        if gzipped:
            inflater, read = zlib.decompressobj(31), 0
            try:
                while not inflater.eof and (chunk := stream.read(BLOCK)):
                    inflater.decompress(chunk)  # only to find the member's end
                    read += len(chunk)
            except zlib.error:
                return None
            return offset + read - len(inflater.unused_data) if inflater.eof else None
        head = b""
        while b"\r\n\r\n" not in head and len(head) < MAX_HEADER and (chunk := stream.read(BLOCK)):
            head += chunk
    header, found, _ = head.partition(b"\r\n\r\n")
    length = CONTENT_LENGTH.search(header) if found else None
    return offset + len(header) + 4 + int(length[1]) + 4 if length else None


def _goes_on(location: str, offset: int) -> bool:
    """Whether the file holds more than blank lines from `offset` on."""
    with open_at(location, offset) as stream:
        while chunk := stream.read(BLOCK):
            if chunk.strip():
                return True
    return False


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
    start: int | None = offset
    resyncing = False  # a guessed member start that fails is no new damage
    while start is not None:
        stream = _Source(open_at(location, start))
        last = None  # offset of the last record read
        failure = None
        try:
            # Records are parsed by fastwarc (the file opened here, so that a URL is read with
            # our timeouts and ranges); payloads decoded as warcio would.
            records = ArchiveIterator(stream, parse_http=False, fsspec_args=False)
            for record in records:
                if gzipped is None:
                    gzipped = stream.head.startswith(GZIP_MAGIC)
                resyncing = False
                event = _event(record, start + record.stream_pos, max_size)
                last = event.offset
                yield event
        except (OSError, ValueError) as error:
            if stream.failed is not None:  # the file itself: the caller says which
                raise stream.failed from None
            failure = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        finally:
            stream.close()
        if gzipped is None:
            gzipped = stream.head.startswith(GZIP_MAGIC)
        # fastwarc stops without a word at some damage (a gzip member cut in its header), so
        # where the last record ends is checked: the file must end there too.
        damaged = start if last is None else _record_end(location, last, gzipped)
        if damaged is None:  # the file ends inside the last record: said so already
            return
        if failure is None:
            if not _goes_on(location, damaged):
                return  # read to its end
            failure = "what follows the last record is no WARC record"
        # The damage is the member (or record) after the last one read; reading goes on at the
        # next one. With none after it, the file was cut off there.
        following = _next_member(location, damaged + 1, gzipped)
        if not resyncing:
            kind = "corrupt_gzip" if gzipped else "bad_record"
            kind = kind if following is not None else "truncated"
            yield Skipped(damaged, kind, error=True, message=failure)
        resyncing = True
        start = following
