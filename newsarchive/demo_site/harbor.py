"""Harbor Times: a modern city paper with semantic HTML5 and JSON-LD metadata.

Its markup is what a current CMS emits: `<article>`, `<header>`, `<time datetime>`,
`<nav aria-label>`, a NewsArticle JSON-LD block, root-relative links and a cookie banner.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .comments import Comment
from .content import Article
from .feeds import atom_feed, json_feed
from .images import placeholder_image
from .links import ArticleLinks
from .markup import esc, insert_positions, join_names, json_ld, render_body, share_links
from .markup import slugify as slug
from .publication import SITE_LAUNCH, Listing, Publication
from .resource import PNG, Resource, absolute
from .sitemaps import monthly_sitemaps

STYLE = """:root{--ink:#14213d;--accent:#0077b6}
body{font:17px/1.6 system-ui,sans-serif;margin:0;color:var(--ink)}
.site-header,.site-footer,main{max-width:960px;margin:0 auto;padding:0 20px}
.primary-nav ul,.share ul,.tags{list-style:none;display:flex;flex-wrap:wrap;gap:14px;padding:0}
.cookie-banner{background:#fffbe6;padding:8px 20px;font-size:14px}
.standfirst{font-size:1.2em;color:#444}.card img,.lead-image img{max-width:100%;height:auto}"""


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _display_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}, {moment:%H:%M} UTC"


class HarborTimes(Publication):
    """Harbor Times, served under /harbor/."""

    name = "harbor"
    title = "Harbor Times"
    tagline = "Independent local journalism for Port Alder"
    prefix = "/harbor/"
    feed_path = "/harbor/atom.xml"
    json_feed_path = "/harbor/feed.json"
    extra_feed_paths = (json_feed_path,)
    sitemap_path = "/harbor/sitemap.xml"
    logo_path = "/harbor/media/logo.png"
    section_order = ("City", "Business", "Environment", "Health", "Tech", "Arts", "Sport")
    related_count = 4
    robots_rules = ("Disallow: /harbor/search", "Disallow: /harbor/account/")

    # URL scheme -------------------------------------------------------------------------

    def article_path(self, article: Article) -> str:
        return f"{self.prefix}{slug(article.section)}/{article.slug}"

    def image_path(self, article: Article) -> str:
        return f"{self.prefix}media/{article.image}"

    def listing_path(self, kind: str, key: str, page: int = 1) -> str:
        base = {
            "front": self.prefix,
            "section": f"{self.prefix}{slug(key)}/",
            "tag": f"{self.prefix}topics/{slug(key)}/",
            "author": f"{self.prefix}people/{slug(key)}/",
        }[kind]
        return base if page == 1 else f"{base}page/{page}/"

    def render(self, articles: list[Article]) -> dict[str, Resource]:
        resources = super().render(articles)
        resources[self.logo_path] = Resource(placeholder_image("logo"), PNG, SITE_LAUNCH)
        return resources

    # Article page -----------------------------------------------------------------------

    def render_article(self, article: Article, links: ArticleLinks, comments: list[Comment]) -> str:
        url = absolute(self.article_path(article))
        positions = insert_positions(article, len(links.also_read))
        inserts = {
            position: f'<p class="also-read">Also Read: <a href="{self.article_path(teaser)}">'
            f"{esc(teaser.title)}</a></p>"
            for position, teaser in zip(positions, links.also_read, strict=True)
        }
        read_more = ""
        if links.read_more:
            read_more = (
                f'<p class="read-more">Read more: <a href="{self.article_path(links.read_more)}">'
                f"{esc(links.read_more.title)}</a></p>"
            )
        byline = join_names(
            [f'<a rel="author" href="{self.author_path(n)}">{esc(n)}</a>' for n in article.authors]
        )
        updated = ""
        if article.modified:
            updated = (
                f' &middot; Updated <time datetime="{_utc(article.modified)}">'
                f"{_display_date(article.modified)}</time>"
            )
        tags = "".join(f'<li><a href="{self.tag_path(t)}">{esc(t)}</a></li>' for t in article.tags)
        shares = "".join(
            f'<li><a class="share-{network.lower()}" href="{esc(href)}" rel="noopener">'
            f"{network}</a></li>"
            for network, href in share_links(url, article.title)
        )
        main = f"""<nav aria-label="Breadcrumb" class="breadcrumb"><ol>
<li><a href="{self.prefix}">Home</a></li>
<li><a href="{self.section_path(article.section)}">{esc(article.section)}</a></li>
<li aria-current="page">{esc(article.title)}</li>
</ol></nav>
<article class="story">
<header class="story-header">
<p class="kicker"><a href="{self.section_path(article.section)}">{esc(article.section)}</a></p>
<h1>{esc(article.title)}</h1>
<p class="standfirst">{esc(article.description)}</p>
<p class="byline">By {byline}</p>
<p class="dateline"><time datetime="{_utc(article.published)}">\
{_display_date(article.published)}</time>{updated}</p>
</header>
<figure class="lead-image"><img src="{self.image_path(article)}" alt="{esc(article.title)}" \
width="1200" height="675" loading="eager"></figure>
<aside class="share" aria-label="Share this article"><h2 class="share-title">Share this article</h2>
<ul>{shares}</ul></aside>
<div class="story-body">
{render_body(article, inserts)}
{read_more}
</div>
{self._newsletter()}
<footer class="story-footer"><h2 class="visually-hidden">Topics</h2>
<ul class="tags">{tags}</ul></footer>
</article>
{self._more_from(article, links.related)}
{self._most_read(links.popular)}
{self._comments(comments)}"""
        return self._page(
            title=article.title,
            description=article.description,
            canonical=url,
            og_type="article",
            image=absolute(self.image_path(article)),
            structured=json_ld(self._news_article(article, url)),
            main=main,
        )

    def _news_article(self, article: Article, url: str) -> dict[str, Any]:
        return {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": url},
            "headline": article.title,
            "description": article.description,
            "image": [absolute(self.image_path(article))],
            "datePublished": _utc(article.published),
            "dateModified": _utc(article.updated),
            "author": [
                {"@type": "Person", "name": name, "url": absolute(self.author_path(name))}
                for name in article.authors
            ],
            "publisher": {
                "@type": "NewsMediaOrganization",
                "name": self.title,
                "logo": {"@type": "ImageObject", "url": absolute(self.logo_path)},
            },
            "articleSection": article.section,
            "keywords": list(article.tags),
            "inLanguage": "en",
        }

    def _newsletter(self) -> str:
        return f"""<aside class="newsletter" aria-labelledby="newsletter-title">
<h2 id="newsletter-title">Subscribe to our newsletter</h2>
<p>The Harbor Briefing: Port Alder's news in five minutes, every weekday at 7am.</p>
<form action="{self.prefix}newsletter" method="post">
<label for="newsletter-email">Email address</label>
<input id="newsletter-email" type="email" name="email" autocomplete="email" required>
<button type="submit">Subscribe</button>
</form>
</aside>"""

    def _card(self, article: Article, heading: str = "h3", extra_class: str = "") -> str:
        href = self.article_path(article)
        return f"""<article class="card{extra_class}">
<a href="{href}"><img src="{self.image_path(article)}" alt="" width="320" height="180" \
loading="lazy"></a>
<{heading} class="card-title"><a href="{href}">{esc(article.title)}</a></{heading}>
<p class="card-meta">{esc(join_names(article.authors))} &middot; \
<time datetime="{_utc(article.published)}">{_display_date(article.published)}</time></p>
</article>"""

    def _more_from(self, article: Article, related: list[Article]) -> str:
        cards = "\n".join(f"<li>{self._card(other)}</li>" for other in related)
        return f"""<section class="more-from" aria-labelledby="more-from-title">
<h2 id="more-from-title">More from {esc(article.section)}</h2>
<ul class="card-grid">
{cards}
</ul>
</section>"""

    def _most_read(self, popular: list[Article]) -> str:
        items = "".join(
            f'<li><a href="{self.article_path(a)}">{esc(a.title)}</a></li>' for a in popular
        )
        return f"""<section class="most-read" aria-labelledby="most-read-title">
<h2 id="most-read-title">Most read</h2><ol>{items}</ol></section>"""

    def _comments(self, comments: list[Comment]) -> str:
        entries = "\n".join(
            f"""<li><article class="comment" id="comment-{n}">
<header><strong class="comment-author">{esc(c.author)}</strong> \
<time datetime="{_utc(c.posted)}">{_display_date(c.posted)}</time></header>
<p>{esc(c.text)}</p>
<a class="reply" href="#respond">Reply</a>
</article></li>"""
            for n, c in enumerate(comments, start=1)
        )
        return f"""<section id="comments" class="comments" aria-labelledby="comments-title">
<h2 id="comments-title">Comments ({len(comments)})</h2>
<ol class="comment-list">
{entries}
</ol>
<div id="respond" class="comment-respond">
<h3>Leave a Reply</h3>
<form action="{self.prefix}comments" method="post">
<p class="form-note">Your email address will not be published. Required fields are marked *</p>
<label for="comment-text">Comment *</label>
<textarea id="comment-text" name="comment" rows="6" required></textarea>
<label for="comment-name">Name *</label>
<input id="comment-name" name="author" required>
<label for="comment-email">Email *</label>
<input id="comment-email" type="email" name="email" required>
<label for="comment-url">Website</label>
<input id="comment-url" type="url" name="url">
<button type="submit">Post Comment</button>
</form>
</div>
</section>"""

    # Listings and other pages -----------------------------------------------------------

    def render_listing(self, listing: Listing) -> str:
        cards = "\n".join(
            "<li>"
            + self._card(a, "h2", " card--lead" if listing.kind == "front" and n == 0 else "")
            + f'\n<p class="card-standfirst">{esc(a.description)}</p></li>'
            for n, a in enumerate(listing.articles)
        )
        heading = {
            "front": "Latest news",
            "section": listing.heading,
            "tag": f"Topic: {listing.heading}",
            "author": listing.heading,
        }[listing.kind]
        pager = [f"<span>Page {listing.page} of {listing.page_count}</span>"]
        if listing.newer_path:
            pager.insert(0, f'<a rel="prev" href="{listing.newer_path}">Newer posts</a>')
        if listing.older_path:
            pager.append(f'<a rel="next" href="{listing.older_path}">Older posts</a>')
        main = f"""<h1 class="listing-title">{esc(heading)}</h1>
<ol class="story-list">
{cards}
</ol>
<nav class="pagination" aria-label="Pages">{" ".join(pager)}</nav>"""
        title = heading if listing.page == 1 else f"{heading} (page {listing.page})"
        return self._page(
            title=title,
            description=self.tagline,
            canonical=absolute(listing.path),
            og_type="website",
            image=absolute(self.logo_path),
            structured="",
            main=main,
        )

    def render_about(self) -> str:
        main = f"""<h1>About {self.title}</h1>
<p>{self.title} is a non-profit newsroom covering Port Alder and its islands since 2009.
We are funded by our members and by grants, and we never put our journalism behind a paywall.</p>
<h2 id="contact">Contact us</h2>
<p>Tips and corrections: desk@harbortimes.example, or visit us at 4 Custom House Quay.</p>
<h2 id="subscribe">Membership</h2>
<p>Members get the Harbor Briefing newsletter and invitations to our public events.</p>"""
        return self._page(
            title=f"About {self.title}",
            description=self.tagline,
            canonical=absolute(self.about_path),
            og_type="website",
            image=absolute(self.logo_path),
            structured="",
            main=main,
        )

    def render_syndication(self, articles: list[Article]) -> dict[str, Resource]:
        sitemaps = monthly_sitemaps(
            self, articles, self.sitemap_path, self.prefix + "sitemaps/{month}.xml"
        )
        return {
            self.feed_path: atom_feed(self, articles),
            self.json_feed_path: json_feed(self, articles, self.json_feed_path),
            **sitemaps,
        }

    # Page chrome ------------------------------------------------------------------------

    def _page(
        self,
        *,
        title: str,
        description: str,
        canonical: str,
        og_type: str,
        image: str,
        structured: str,
        main: str,
    ) -> str:
        nav = "".join(
            f'<li><a href="{self.section_path(s)}">{esc(s)}</a></li>' for s in self.section_order
        )
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} | {self.title}</title>
<meta name="description" content="{esc(description)}">
<link rel="canonical" href="{canonical}">
<link rel="alternate" type="application/atom+xml" title="{self.title}" href="{self.feed_path}">
<meta property="og:type" content="{og_type}">
<meta property="og:title" content="{esc(title)}">
<meta property="og:url" content="{canonical}">
<meta property="og:image" content="{image}">
<meta property="og:site_name" content="{self.title}">
{structured}
<style>{STYLE}</style>
</head>
<body id="top">
<a class="skip-link" href="#main">Skip to content</a>
<div class="cookie-banner" role="dialog" aria-label="Cookie consent">
<p>We use cookies to understand how our site is used.
<button type="button">Accept</button> <button type="button">Manage preferences</button></p>
</div>
<header class="site-header">
<a class="logo" href="{self.prefix}"><img src="{self.logo_path}" alt="" width="40" height="40">\
{self.title}</a>
<nav class="primary-nav" aria-label="Sections"><ul>
<li><a href="{self.prefix}">Home</a></li>{nav}
</ul></nav>
<a class="subscribe-cta" href="{self.about_path}#subscribe">Become a member</a>
</header>
<main id="main">
{main}
</main>
<footer class="site-footer">
<nav aria-label="Footer"><ul>
<li><a href="{self.about_path}">About {self.title}</a></li>
<li><a href="{self.about_path}#contact">Contact</a></li>
<li><a href="{self.feed_path}">Atom feed</a></li>
</ul></nav>
<p>&copy; 2026 {self.title} Media. {self.tagline}.</p>
<p><a class="back-to-top" href="#top">Back To Top</a></p>
</footer>
</body>
</html>
"""
