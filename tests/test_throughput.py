"""The crawl benchmark runs end to end on a small site and reports what the issue asks for.

Speed itself is not asserted here (the machine is shared, timings vary); `python -m bench.crawl`
is for that. What is asserted: every page is archived, extraction ran in worker processes,
and the memory of the whole process tree stays far below the budget.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_crawl_benchmark_runs_and_reports(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench.crawl", "--pages", "150", "--ref-pages", "5",
         "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = result.stdout
    assert "completed (finished)" in report
    assert "150 new articles (0 more copies), 0 dropped" in report
    for label in ("end to end", "extraction only", "first/last", "peak memory", "archive / 1,000"):
        assert label in report, report
    assert re.search(r"\d+\.\d+x trafilatura default, \d+\.\d+x our extract_article", report)
    processes = int(re.search(r"up to (\d+) processes", report).group(1))
    assert processes >= 3  # the crawl and its extraction workers
    rss = int(re.search(r"RSS (\d+) MB summed", report).group(1))
    assert rss < 500
