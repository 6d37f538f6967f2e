"""Bad user input gets a clear one-line error and a non-zero exit, never a traceback, from every
command: crawl, stats, reextract, schedule, extract and demo."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipelines.archive.schema import open_archive
from tests.conftest import run_cli

pytestmark = pytest.mark.slow  # runs real crawls

REFUSED = "http://127.0.0.1:9/2025/03/14/some-story.html"  # never fetched: the input is bad


def check_error(args: list[str], message: str, timeout: float = 60) -> None:
    """The command fails with `message` in a short stderr and no traceback."""
    result = run_cli(*args, timeout=timeout)
    assert result.returncode != 0, (args, result.stdout)
    assert message in result.stderr, (args, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    # One line, after click's "Usage:" and "Try --help" lines for a bad option.
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 3 and lines[-1].startswith(("Error: ", "Crawl did not start: ")), lines


def check_errors(*cases: tuple[list[str], str]) -> None:
    """check_error for each (args, message), a few at a time: each is a process of its own."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(check_error, args, message) for args, message in cases]:
            done.result()


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """Broken sources files and archives of every kind."""
    paths = {name: tmp_path / name for name in ("syntax.toml", "unknown-key.toml", "good.toml")}
    paths["syntax.toml"].write_text("[[sources]]\nname = 'x'\nfeeds = ['http://a.example/f'\n")
    paths["unknown-key.toml"].write_text(
        "[[sources]]\nname = 'x'\nfeeds = ['http://a.example/f']\n\n"
        "[[sources]]\nname = 'y'\nfeedz = ['http://a.example/f']\n"
    )
    paths["good.toml"].write_text(f"[[sources]]\nname = 'x'\nurls = ['{REFUSED}']\n")
    paths["garbage.db"] = tmp_path / "garbage.db"
    paths["garbage.db"].write_bytes(b"garbage" * 1000)
    paths["other.db"] = tmp_path / "other.db"
    with sqlite3.connect(paths["other.db"]) as conn:
        conn.execute("create table stuff (x)")
    paths["empty.db"] = tmp_path / "empty.db"
    paths["empty.db"].touch()
    paths["folder"] = tmp_path / "folder"
    paths["folder"].mkdir()
    paths["corrupt.db"] = corrupt_archive(tmp_path / "corrupt.db")
    paths["archive.db"] = tmp_path / "archive.db"
    open_archive(paths["archive.db"]).close()
    return paths


def corrupt_archive(path: Path) -> Path:
    """A real archive with a stretch of its article pages overwritten: the schema still reads,
    the data does not."""
    db = open_archive(path)
    with db.atomic():
        for n in range(200):
            db["articles"].insert({"url": f"http://x.example/{n}", "text": f"story {n} " * 300})
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    pages = len(data) // 4096
    for page in range(pages - 40, pages - 1):
        data[page * 4096 : (page + 1) * 4096] = b"\x0d" + b"\xff" * 4095
    path.write_bytes(bytes(data))
    return path


def test_sources_file_errors(files, tmp_path):
    db = str(files["archive.db"])
    check_error(["crawl", "--sources", str(tmp_path / "none.toml"), "--db", db], "not found")
    check_error(["crawl", "--sources", str(files["syntax.toml"]), "--db", db], "not valid TOML")
    check_error(
        ["crawl", "--sources", str(files["unknown-key.toml"]), "--db", db],
        "unknown-key.toml:5: unknown key 'feedz' (did you mean 'feeds'?)",
    )
    check_error(["crawl", "--sources", str(files["folder"]), "--db", db], "cannot read")
    check_error(
        ["crawl", "--sources", str(files["good.toml"]), "nope", "--db", db],
        "unknown source 'nope'; known sources: x",
    )


@pytest.mark.parametrize(
    ("option", "url", "message"),
    [
        ("--url", "not a url", "not an http(s) URL"),
        ("--url", "http://", "not an http(s) URL"),
        ("--url", "file:///etc/passwd", "not an http(s) URL"),
        ("--feed", "http://user:secret@news.example/feed", "URLs with credentials are not allowed"),
        ("--sitemap", "javascript:alert(1)", "not an http(s) URL"),
    ],
)
def test_bad_urls(files, option, url, message):
    check_error(["crawl", option, url, "--db", str(files["archive.db"])], f"{option}: {message}")


def test_bad_settings(files):
    db = str(files["archive.db"])
    check_error(["crawl", "--url", REFUSED, "--db", db, "-s", "NOEQUALS"], "expected NAME=VALUE")
    check_error(
        ["crawl", "--url", REFUSED, "--db", db, "-s", "DOWNLOAD_TIMEOUT=soon"],
        "DOWNLOAD_TIMEOUT must be a number, got 'soon'",
    )
    check_error(
        ["crawl", "--url", REFUSED, "--db", db, "-s", "ROBOTSTXT_OBEY=maybe"],
        "ROBOTSTXT_OBEY must be true or false",
    )
    check_error(
        ["crawl", "--url", REFUSED, "--db", db, "-s", "NEWSARCHIVE_SQLITE_PRAGMAS=drop table x"],
        "NEWSARCHIVE_SQLITE_PRAGMAS: expected name=value",
    )


ARCHIVE_ERRORS = [
    ("garbage.db", "is not a SQLite database"),
    ("other.db", "is a SQLite database but not a news archive"),
    ("corrupt.db", "is corrupt (database disk image is malformed)"),
    ("folder", "is a directory, not an archive file"),
    ("missing/folder/archive.db", "cannot "),
]


@pytest.mark.parametrize(("name", "message"), ARCHIVE_ERRORS)
def test_bad_archives_for_every_command(files, tmp_path, name, message):
    db = str(files.get(name, tmp_path / name))
    missing = "missing" in name
    # At most one of the commands that take the archive's write lock at a time.
    # stats reads the small summary tables, search the articles: the corrupt pages are there.
    reader = ["search", "story", "--db", db] if name == "corrupt.db" else ["stats", "--db", db]
    readers = [(reader, "does not exist" if missing else message)]
    writers = [(["reextract", "--db", db], "does not exist" if missing else message)]
    if name != "corrupt.db":  # a crawl that stores nothing never reads the corrupt pages
        readers.append((["schedule", "--every", "1h", "--db", db], message))
        writers.append((["crawl", "--url", REFUSED, "--db", db], message))
        writers.append((["demo", "--no-serve", "--db", db], message))
    check_errors(*readers, writers[0])
    for args, text in writers[1:]:
        check_error(args, text)
    if name != "corrupt.db":
        return
    # The demo crawl stores articles: the first write meets the corrupt pages and stops it.
    result = run_cli("demo", "--no-serve", "--db", db)
    assert result.returncode == 1
    assert f"stopped         {db} {message}" in result.stderr
    assert "Traceback" not in result.stderr


def test_stats_needs_an_archive(files, tmp_path):
    check_error(["stats", "--db", str(tmp_path / "none.db")], "does not exist: run a crawl first")
    check_error(["stats", "--db", str(files["empty.db"])], "is an empty database")
    check_error(["reextract", "--db", str(tmp_path / "none.db")], "does not exist")
    assert not (tmp_path / "none.db").exists()  # and it was not created either


def test_reextract_input(files):
    db = str(files["archive.db"])
    check_error(["reextract", "--db", db, "--since", "yesterday"], "expected a date")
    check_error(["reextract", "--db", db, "--source", "nope"], "no archived articles of source")
    check_error(
        ["reextract", "--db", db, "--sources", str(files["unknown-key.toml"])],
        "unknown-key.toml:5",
    )


def test_schedule_checks_its_crawls_first(files):
    db = str(files["archive.db"])
    check_error(["schedule", "--every", "banana", "--db", db], "bad duration 'banana'")
    check_error(["schedule", "--db", db], "give exactly one of --every or --cron")
    check_error(
        ["schedule", "--every", "1h", "--db", db, "--", "--sources", str(files["syntax.toml"])],
        "not valid TOML",
    )
    check_error(["schedule", "--every", "1h", "--db", db, "--", "--bogus"], "No such option")
    check_error(
        ["schedule", "--every", "1h", "--db", db, "--", "--url", "ftp://x.example/"],
        "not an http(s) URL",
    )


def test_extract_input(files, tmp_path):
    check_error(["extract", str(tmp_path / "none.html")], "no such file, directory or URL")
    check_error(["extract", "http://"], "cannot fetch")
    check_error(["extract", str(files["garbage.db"])], "no article text found")
    check_error(["extract", str(files["folder"])], "no .html or .htm files")


def test_demo_ports(files):
    check_error(["demo", "--no-serve", "--site-port", "99999"], "not in the range")


@pytest.fixture
def immutable(tmp_path):
    """Make files read-only even for root (chattr +i), and writable again afterwards."""
    marked: list[Path] = []

    def mark(path: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"chattr +i does not work here: {done.stderr.decode().strip()}")
        marked.append(path)

    yield mark
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_read_only_archive_file_and_folder(files, tmp_path, immutable):
    db = files["archive.db"]
    immutable(db)
    for args in (["crawl", "--url", REFUSED], ["reextract"], ["demo", "--no-serve"]):
        check_error([*args, "--db", str(db)], "attempt to write a readonly database")
    check_error(["schedule", "--every", "1h", "--db", str(db)], "readonly database")
    assert run_cli("stats", "--db", str(db)).returncode == 0  # reading is fine
    folder = tmp_path / "locked"
    folder.mkdir()
    immutable(folder)
    check_error(["crawl", "--url", REFUSED, "--db", str(folder / "archive.db")], "cannot use")


def test_search_refuses_bad_dates_and_unknown_sources(files):
    db = str(files["archive.db"])
    cases = [
        (["search", "x", "--db", db, "--since", bad], "--since: expected a date like 2026-01-31")
        for bad in ("2026/01/01", "yesterday", "2026-13-45")
    ]
    cases.append((["search", "x", "--db", db, "--until", "soon"], "--until: expected a date"))
    cases.append(
        (["search", "x", "--db", db, "--source", "nosuch"], "no archived articles of source")
    )
    check_errors(*cases)
    assert run_cli("search", "x", "--db", db, "--since", "2026-01-31").returncode == 0


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("DOWNLOAD_DELAYY=2", "unknown setting 'DOWNLOAD_DELAYY' (did you mean DOWNLOAD_DELAY?)"),
        ("download_delay=2", "unknown setting 'download_delay' (did you mean DOWNLOAD_DELAY?)"),
        ("NO_SUCH_THING=1", "unknown setting 'NO_SUCH_THING'"),
        ("NEWSARCHIVE_EXTRACTION_WORKERS=two", "must be a whole number, got 'two'"),
        ("NEWSARCHIVE_EXTRACTOR=no.such.function", "NEWSARCHIVE_EXTRACTOR: cannot import"),
        ("CONCURRENT_REQUESTS=2.5", "CONCURRENT_REQUESTS must be a whole number"),
    ],
)
def test_unknown_settings_and_wrong_types_are_errors(files, setting, message):
    check_error(
        ["crawl", "--url", REFUSED, "--db", str(files["archive.db"]), "-s", setting], message
    )


def test_every_newsarchive_setting_refuses_a_value_of_the_wrong_type():
    from crawler import settings as declared
    from newsarchive.crawl import parse_overrides
    from newsarchive.errors import CommandError

    checked = 0
    for name in dir(declared):
        value = getattr(declared, name)
        if not name.startswith("NEWSARCHIVE_"):
            continue
        if isinstance(value, bool):
            bad = "maybe"
        elif isinstance(value, int | float) or name == "NEWSARCHIVE_EXTRACTION_WORKERS":
            bad = "two"
            with pytest.raises(CommandError, match="must not be negative|more than 0"):
                parse_overrides([f"{name}=-1"])
        elif name == "NEWSARCHIVE_EXTRACTOR":
            bad = "not a path"
        else:
            continue  # a string or a list: any text is a value (PRAGMAs are checked by storage)
        with pytest.raises(CommandError, match=f"^-s: {name}"):
            parse_overrides([f"{name}={bad}"])
        checked += 1
    assert checked >= 15


def test_serve_refuses_bad_and_busy_ports(files):
    db = str(files["archive.db"])
    check_error(["serve", "--db", db, "--port", "99999"], "not in the range")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = run_cli("serve", "--db", db, "--port", port, timeout=30)
        assert result.returncode == 1
        assert "Serving" not in result.stdout
        assert result.stderr.strip() == (
            f"Error: --port: 127.0.0.1:{port} is already in use; choose another --port"
        )
        check_error(["demo", "--db", db, "--port", port], "is already in use")
