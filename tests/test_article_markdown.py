"""Articles keep their structure: the body as markdown (headings, lists, quotes, tables) next to
the plain text, from extraction through a real crawl to the article page and `extract --format`."""

from __future__ import annotations

import json
import sqlite3

import pytest

from browse import make_datasette
from browse.plugin import article_html
from crawler.compression import compress_html
from pipelines.archive.schema import open_archive
from pipelines.article.core import extract_article
from tests.conftest import FAST, run_cli
from tests.test_browse import get

PAGE = """<html><head><title>Harbor tunnel vote | The Herald</title>
<meta property="og:type" content="article"></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Harbor tunnel vote</h1>
<p>The council voted on Tuesday to build the harbor tunnel after a long debate in the chamber,
officials said, ending a decade of argument about how to cross the water.</p>
<h2>What happens next</h2>
<p>Construction starts in spring and will take four years, according to the plan presented
to the council by the city's engineers on Tuesday evening.</p>
<ul><li>Phase one: the northern ramp</li><li>Phase two: the bore under the harbor</li></ul>
<ol><li>Tenders close in March</li><li>Work starts in May</li></ol>
<blockquote><p>"This is a historic day for the city," the mayor told reporters outside.</p>
</blockquote>
<h3>The cost</h3>
<p>Critics say the cost of <b>two billion</b> is too high, *not emphasis* and 3 &lt; 4 for
the city, whose budget is already stretched by the new seawall.</p>
<p>Read more: other stories</p>
</article><footer>Back To Top</footer></body></html>"""


def test_markdown_keeps_headings_lists_and_quotes_and_the_text_stays_plain():
    article = extract_article(PAGE, "https://herald.example/2025/03/01/harbor-tunnel-vote")
    markdown = article["markdown"]
    assert "## What happens next" in markdown and "### The cost" in markdown
    assert "- Phase one: the northern ramp\n- Phase two: the bore under the harbor" in markdown
    assert "1. Tenders close in March\n2. Work starts in May" in markdown
    assert '> "This is a historic day for the city," the mayor told reporters outside.' in markdown
    assert "Harbor tunnel vote" not in markdown  # the headline, as in the text
    assert "Read more" not in markdown and "Read more" not in article["text"]
    assert "##" not in article["text"] and "What happens next" in article["text"]
    # the text's own characters are not markdown syntax
    assert r"\*not emphasis\*" in markdown and r"3 \< 4" in markdown
    html = article_html(markdown)
    assert "<h2>What happens next</h2>" in html and "<h3>The cost</h3>" in html
    assert "<blockquote>" in html and "<ol>" in html
    assert "*not emphasis*" in html and "3 &lt; 4" in html and "<em>" not in html


@pytest.mark.slow
def test_extract_format_text_markdown_json(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    url = ["--url", "https://herald.example/2025/03/01/harbor-tunnel-vote"]
    markdown = run_cli("extract", str(page), "--format", "markdown", *url)
    assert markdown.returncode == 0, markdown.stderr
    assert "## What happens next" in markdown.stdout
    text = run_cli("extract", str(page), "--format", "text", *url)
    assert "What happens next" in text.stdout and "##" not in text.stdout
    data = json.loads(run_cli("extract", str(page), "--format", "json", *url).stdout)
    assert data["markdown"].startswith("The council voted") and data["text"]
    assert json.loads(run_cli("extract", str(page), "--json", *url).stdout) == data
    bad = run_cli("extract", str(page), "--format", "html")
    assert bad.returncode == 1 and "'html' is not one of" in bad.stderr


@pytest.mark.slow
def test_a_crawl_stores_the_markdown_and_the_article_page_shows_its_subheadings(
    demo_sources, tmp_path
):
    db = tmp_path / "archive.db"
    result = run_cli("crawl", "--sources", str(demo_sources), "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    article_id, markdown, text = conn.execute(
        "select id, markdown, text from articles where title like '%night shift%'"
    ).fetchone()
    assert "## The ship comes first" in markdown and "## Screens and steel" in markdown
    assert "The ship comes first" in text and "## " not in text
    # the full-text index still reads the plain text
    found = conn.execute(
        "select rowid from articles_fts where articles_fts match 'screens'"
    ).fetchall()
    assert (article_id,) in found
    missing = conn.execute("select count(*) from articles where markdown is null").fetchone()[0]
    assert missing == 0
    conn.close()
    html = get(make_datasette(db), f"/archive/articles/{article_id}").text
    assert "<h2>The ship comes first</h2>" in html and "<h2>Screens and steel</h2>" in html


def test_reextract_fills_in_the_markdown_of_older_articles(tmp_path):
    db_path = tmp_path / "archive.db"
    db = open_archive(db_path)
    url = "https://herald.example/2025/03/01/harbor-tunnel-vote"
    text = extract_article(PAGE, url)["text"]
    db["articles"].insert(
        {"id": 1, "url": url, "source": "herald", "title": "Harbor tunnel vote", "text": text}
    )
    html = PAGE.encode()
    db["article_html"].insert(
        {"article_id": 1, "url": url, "status": 200, "size": len(html), "html": compress_html(html)}
    )
    db.close()
    result = run_cli("reextract", "--db", str(db_path), "--sources", "")
    assert result.returncode == 0, result.stderr
    markdown = sqlite3.connect(db_path).execute("select markdown from articles").fetchone()[0]
    assert "## What happens next" in markdown
