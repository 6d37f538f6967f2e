"""`newsarchive demo` uses its own archive file (demo.db) and never touches archive.db."""

from __future__ import annotations

import pytest

from pipelines.archive.schema import open_archive
from tests.conftest import query, run_cli


@pytest.mark.slow
def test_demo_writes_demo_db_and_leaves_archive_db_alone(tmp_path):
    result = run_cli("demo", "--no-serve", "--site-port", "0", cwd=tmp_path)
    assert result.returncode == 0, result
    assert "Crawl run 1 completed" in result.stdout
    assert query(tmp_path / "demo.db", "select count(*) as n from articles")[0]["n"] == 41
    assert not list(tmp_path.glob("archive.db*"))


def test_demo_refuses_a_real_archive(tmp_path):
    real = tmp_path / "archive.db"
    db = open_archive(real)
    db["articles"].insert({"url": "https://news.example/a-story", "source": "npr", "text": "x"})
    db.close()
    before = real.read_bytes()
    result = run_cli("demo", "--no-serve", "--site-port", "0", "--db", str(real))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: {real} holds 1 articles of other sources than the demo's: the demo writes only"
        " to its own file (--db demo.db, the default)"
    )
    assert real.read_bytes() == before
