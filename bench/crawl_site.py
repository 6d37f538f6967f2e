"""A large generated news site for the crawl benchmark: N distinct article pages rendered with
the demo site's two templates, listed in sitemap indexes, pre-rendered into memory.

Articles are variants of the demo articles: the body blocks are reordered, a paragraph of
another article and a dateline are added, and publication dates are spread at about one article
an hour, as on a busy site. Real news pages are much heavier than the lean demo templates
(the extraction benchmark's pages have a median of ~110 kB), so each page can be padded with
the chrome real pages carry: theme CSS, tracking and app-state scripts, a mega menu, teaser
grids and a link-heavy footer. The padding is markup, not just script text, so parsing and
extraction cost grows with it as on real pages.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from newsarchive.demo_site import Article, Block, load_articles
from newsarchive.demo_site.comments import comments_for
from newsarchive.demo_site.harbor import HarborTimes
from newsarchive.demo_site.ledger import DailyLedger
from newsarchive.demo_site.links import links_for
from newsarchive.demo_site.markup import esc
from newsarchive.demo_site.publication import Publication
from newsarchive.demo_site.resource import HTML, TEXT, Resource, absolute
from newsarchive.demo_site.sitemaps import SITEMAP_NS, news_sitemap
from newsarchive.demo_site.sources import render_sources_toml

URLS_PER_SITEMAP = 1000
ARTICLES_PER_HOUR = 1
TOWNS = (
    "Port Alder", "Kingsbridge", "Eastmoor", "Wexley", "Calder", "Norhaven", "Brackwater",
    "Fellside", "Ostend Bay", "Marrow Point", "Linwood", "Sandgate", "Ashby Cross", "Tolmere",
)  # fmt: skip
NAV_TOPICS = (
    "Elections", "Housing", "Transport", "Climate", "Energy", "Schools", "Courts", "Crime",
    "Markets", "Jobs", "Startups", "Science", "Space", "Health", "Food", "Travel", "Books",
    "Film", "Music", "Football", "Cricket", "Sailing", "Weather", "Obituaries", "Opinion",
)  # fmt: skip


@dataclass(frozen=True)
class GeneratedSite:
    """Pre-rendered resources (path -> Resource, absolute URLs still on the placeholder origin),
    the article page paths, and the sitemap index paths."""

    resources: dict[str, Resource]
    article_paths: list[str]
    sitemap_paths: list[str]

    def sources_toml(self, origin: str) -> str:
        """A sources file with one source per site, each entered through its sitemap index."""
        host = origin.split("://", 1)[1].split(":", 1)[0]
        sources = [
            {"name": path.split("/")[1], "allowed_domains": [host], "sitemaps": [origin + path]}
            for path in self.sitemap_paths
        ]
        return render_sources_toml(sources)


def _variant(base: Article, index: int, donors: list[Article], newest: Article) -> Article:
    """A distinct article made from `base`: reordered body, a dateline and a borrowed paragraph."""
    rng = random.Random(index)
    town = TOWNS[index % len(TOWNS)]
    blocks = list(base.blocks)
    head, middle = blocks[:1], blocks[1:]
    rng.shuffle(middle)
    donor = donors[(index * 7 + 3) % len(donors)]
    borrowed = [b for b in donor.blocks if b.kind == "paragraph"]
    extra = [rng.choice(borrowed)] if borrowed else []
    published = newest.published - timedelta(hours=index / ARTICLES_PER_HOUR)
    dateline = Block(
        "paragraph",
        f"{town.upper()}, {published:%B} {published.day} - Reporting for this story was "
        f"done in {town} and in the newsroom; the desk reference is {index}.",
    )
    return dataclasses.replace(
        base,
        slug=f"{base.slug}-{index}",
        title=f"{base.title}: {town} edition" if index >= len(donors) else base.title,
        blocks=tuple(head + [dateline] + middle + extra),
        published=published,
        modified=None,
    )


def generate_articles(count: int) -> list[Article]:
    """`count` distinct articles, newest first."""
    bases = sorted(load_articles(), key=lambda a: a.slug)
    newest = max(bases, key=lambda a: a.published)
    return [_variant(bases[i % len(bases)], i, bases, newest) for i in range(count)]


def _chrome_css(index: int) -> str:
    rules = [
        f".c{index % 7}-{n}{{margin:{n % 9}px {n % 13}px;padding:{n % 5}px;"
        f"color:#{n * 2654435 % 16**6:06x};"
        f"font-size:{12 + n % 8}px;line-height:{1.2 + (n % 5) / 10:.1f}}}"
        for n in range(180)
    ]
    return "<style id='theme-css'>" + "\n".join(rules) + "</style>"


def _chrome_scripts(article: Article, teasers: list[Article]) -> str:
    state = {
        "props": {
            "page": {
                "id": article.slug,
                "headline": article.title,
                "section": article.section,
                "authors": list(article.authors),
                "tags": list(article.tags),
                "related": [{"slug": t.slug, "title": t.title} for t in teasers],
            },
            "ads": {
                f"slot-{n}": {"sizes": [[300, 250], [728, 90]], "lazy": n > 2} for n in range(30)
            },
            "experiments": {f"exp-{n}": n % 3 for n in range(60)},
        }
    }
    tracker = "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
    return (
        f"<script>{tracker};gtag('js',new Date());"
        f"gtag('config','G-BENCH{len(article.slug)}');</script>\n"
        f'<script id="__APP_STATE__" type="application/json">{json.dumps(state)}</script>'
    )


def _mega_menu(publication: Publication) -> str:
    columns = []
    for topic in NAV_TOPICS:
        links = "".join(
            f'<li class="menu-item"><a class="menu-link" href="{publication.prefix}topic/'
            f'{topic.lower()}/{n}/">{esc(topic)} {town}</a></li>'
            for n, town in enumerate(TOWNS[:8])
        )
        columns.append(
            f'<div class="mega-col"><h5 class="mega-title">{esc(topic)}</h5>'
            f'<ul class="mega-list">{links}</ul></div>'
        )
    return f'<nav class="mega-menu" aria-label="All sections">{"".join(columns)}</nav>'


def _teaser_grid(publication: Publication, teasers: list[Article], label: str) -> str:
    cards = "".join(
        f'<div class="card card--small"><a class="card__link" href="'
        f'{absolute(publication.article_path(t))}"><div class="card__media"><img loading="lazy" '
        f'src="{publication.image_path(t)}" width="320" height="180" alt=""></div>'
        f'<div class="card__body"><span class="card__kicker">{esc(t.section)}</span>'
        f'<h4 class="card__title">{esc(t.title)}</h4>'
        f'<p class="card__summary">{esc(t.description)}</p></div></a></div>'
        for t in teasers
    )
    return (
        f'<aside class="teaser-grid" aria-label="{esc(label)}"><h3 class="grid-title">'
        f"{esc(label)}</h3>{cards}</aside>"
    )


def _footer_links(publication: Publication) -> str:
    links = "".join(
        f'<li><a href="{publication.prefix}archive/{year}/{month:02d}/">{year}-{month:02d}</a></li>'
        for year in range(2016, 2027)
        for month in range(1, 13)
    )
    return (
        f'<footer class="site-map"><h4>Archive</h4><ul class="archive-links">{links}</ul></footer>'
    )


def pad_page(
    html: str, article: Article, publication: Publication, teasers: list[Article], kb: int
) -> str:
    """`html` with real-page chrome added in the head and around the body until it weighs about
    `kb` kilobytes (0: the lean template as it is)."""
    if kb <= 0:
        return html
    head = _chrome_css(len(article.slug)) + "\n" + _chrome_scripts(article, teasers)
    top = _mega_menu(publication)
    parts: list[str] = [_footer_links(publication)]
    size = len(html) + len(head) + len(top) + len(parts[0])
    n = 0
    while size < kb * 1024:
        chunk = teasers[n % len(teasers) :] + teasers[: n % len(teasers)]
        grid = _teaser_grid(
            publication, chunk, ("More stories", "Most read", "Around the region")[n % 3]
        )
        parts.append(grid)
        size += len(grid)
        n += 1
    html = html.replace("</head>", head + "\n</head>", 1)
    body_at = html.find(">", html.find("<body")) + 1
    html = html[:body_at] + "\n" + top + html[body_at:]
    return html.replace("</body>", "\n".join(parts) + "\n</body>", 1)


def _sitemaps(publication: Publication, articles: list[Article]) -> Iterator[tuple[str, Resource]]:
    entries = []
    for start in range(0, len(articles), URLS_PER_SITEMAP):
        path = f"{publication.prefix}sitemaps/news-{start // URLS_PER_SITEMAP + 1}.xml"
        yield path, news_sitemap(publication, articles[start : start + URLS_PER_SITEMAP])
        entries.append(f"<sitemap><loc>{absolute(path)}</loc></sitemap>")
    index = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">\n'
        + "\n".join(entries)
        + "\n</sitemapindex>\n"
    )
    yield (
        f"{publication.prefix}sitemap-index.xml",
        Resource.text(index, "application/xml; charset=utf-8", articles[0].published),
    )


def build_site(count: int, page_kb: int = 110) -> GeneratedSite:
    """Render `count` article pages (padded to about `page_kb` kB each), sitemaps and robots.txt."""
    publications: dict[str, Publication] = {p.name: p for p in (DailyLedger(), HarborTimes())}
    articles = generate_articles(count)
    resources: dict[str, Resource] = {}
    paths = []
    sitemap_paths = []
    for name, publication in publications.items():
        own = [a for a in articles if a.site == name]
        if not own:
            continue
        for i, article in enumerate(own):
            # Links to nearby articles only: links_for over the whole site is quadratic.
            window = own[max(0, i - 20) : i + 20]
            links = links_for(article, window, publication.related_count)
            html = publication.render_article(article, links, comments_for(article))
            teasers = [a for a in window if a is not article][:12]
            html = pad_page(html, article, publication, teasers, page_kb)
            path = publication.article_path(article)
            resources[path] = Resource.text(html, HTML, article.published)
            paths.append(path)
        for path, resource in _sitemaps(publication, own):
            resources[path] = resource
        sitemap_paths.append(f"{publication.prefix}sitemap-index.xml")
    robots = "User-agent: *\nDisallow: /admin/\n\n" + "\n".join(
        f"Sitemap: {absolute(p)}" for p in sitemap_paths
    )
    resources["/robots.txt"] = Resource.text(robots + "\n", TEXT, articles[-1].published)
    return GeneratedSite(resources, paths, sitemap_paths)


def _mark_page(html: str, index: int) -> str:
    """`html` with a sentence added to its longest paragraph, so every copy is a new article."""
    from lxml import html as lxml_html

    tree = lxml_html.document_fromstring(html)
    paragraphs = tree.findall(".//p")
    if not paragraphs:
        return html
    longest = max(paragraphs, key=lambda p: len(p.text_content()))
    note = f" Archive copy {index}."
    if len(longest):
        longest[-1].tail = (longest[-1].tail or "") + note
    else:
        longest.text = (longest.text or "") + note
    return lxml_html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")


def build_real_site(count: int, pages: list[str]) -> GeneratedSite:
    """`count` pages made from real news pages (e.g. the extraction benchmark's), each copy
    marked so it is a distinct article, under /real/, with a sitemap index and robots.txt."""
    resources: dict[str, Resource] = {}
    paths = []
    newest = max(generate_articles(1), key=lambda a: a.published)
    for index in range(count):
        path = f"/real/{index // 100:03d}/page-{index}.html"
        resources[path] = Resource.text(
            _mark_page(pages[index % len(pages)], index), HTML, newest.published
        )
        paths.append(path)
    entries = []
    for start in range(0, count, URLS_PER_SITEMAP):
        chunk = paths[start : start + URLS_PER_SITEMAP]
        sitemap = f"/real/sitemaps/{start // URLS_PER_SITEMAP + 1}.xml"
        urls = "\n".join(f"<url><loc>{absolute(p)}</loc></url>" for p in chunk)
        resources[sitemap] = Resource.text(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n{urls}\n'
            "</urlset>\n",
            "application/xml; charset=utf-8",
            newest.published,
        )
        entries.append(f"<sitemap><loc>{absolute(sitemap)}</loc></sitemap>")
    index_path = "/real/sitemap-index.xml"
    resources[index_path] = Resource.text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">\n'
        + "\n".join(entries)
        + "\n</sitemapindex>\n",
        "application/xml; charset=utf-8",
        newest.published,
    )
    robots = f"User-agent: *\nDisallow: /admin/\n\nSitemap: {absolute(index_path)}\n"
    resources["/robots.txt"] = Resource.text(robots, TEXT, newest.published)
    return GeneratedSite(resources, paths, [index_path])
