"""The Daily Ledger: a WordPress-style national paper with div soup and meta tags.

Its markup follows the popular "Newspaper" WordPress theme: nested `td-*` divs, an
`entry-content` body, Open Graph and `article:*` meta tags, no JSON-LD, absolute URLs.
"""

from __future__ import annotations

import hashlib

from .comments import Comment
from .content import Article
from .feeds import picks_feed, rss_feed
from .links import ArticleLinks
from .markup import esc, insert_positions, iso, join_names, long_date, render_body, share_links
from .markup import slugify as slug
from .publication import Listing, Publication
from .resource import Resource, absolute
from .sitemaps import news_sitemap

STYLE = """body{font-family:Georgia,serif;margin:0;color:#222}
.td-container{max-width:1068px;margin:0 auto;padding:0 16px}
.td-pb-row{display:flex;gap:32px}.td-pb-span8{flex:2}.td-pb-span4{flex:1}
.sf-menu li,.top-header-menu li,.td-tags li{display:inline;margin-right:12px}
.td-header-menu-wrap-full{background:#111}.sf-menu a{color:#fff}
.td-tagline-text{display:block;font-size:14px}.td-module-meta-info div{display:inline}
.td-footer-wrapper{background:#111;color:#ccc;padding:24px 0;margin-top:40px}"""


def post_id(article: Article) -> int:
    """WordPress-style numeric post ID, stable for a slug."""
    return 10_000 + int(hashlib.sha256(article.slug.encode()).hexdigest()[:8], 16) % 90_000


class DailyLedger(Publication):
    """The Daily Ledger, served under /ledger/."""

    name = "ledger"
    title = "The Daily Ledger"
    tagline = "Independent news since 1921"
    prefix = "/ledger/"
    feed_path = "/ledger/feed/"
    picks_feed_path = "/ledger/picks/feed/"
    extra_feed_paths = (picks_feed_path,)
    sitemap_path = "/ledger/news-sitemap.xml"
    section_order = ("World", "Politics", "Business", "Science", "Technology", "Sport", "Culture")
    related_count = 3
    robots_rules = ("Disallow: /ledger/wp-admin/", "Allow: /ledger/wp-admin/admin-ajax.php")

    # URL scheme -------------------------------------------------------------------------

    def article_path(self, article: Article) -> str:
        return f"{self.prefix}{article.published:%Y/%m/%d}/{article.slug}/"

    def image_path(self, article: Article) -> str:
        return f"{self.prefix}wp-content/uploads/{article.published:%Y/%m}/{article.image}"

    def listing_path(self, kind: str, key: str, page: int = 1) -> str:
        base = {
            "front": self.prefix,
            "section": f"{self.prefix}category/{slug(key)}/",
            "tag": f"{self.prefix}tag/{slug(key)}/",
            "author": f"{self.prefix}author/{slug(key)}/",
        }[kind]
        return base if page == 1 else f"{base}page/{page}/"

    def guid(self, article: Article) -> str:
        return absolute(f"{self.prefix}?p={post_id(article)}")

    def url(self, path: str) -> str:
        """WordPress writes absolute URLs everywhere."""
        return absolute(path)

    # Article page -----------------------------------------------------------------------

    def render_article(self, article: Article, links: ArticleLinks, comments: list[Comment]) -> str:
        url = self.url(self.article_path(article))
        inserts = {
            position: self._also_read(teaser)
            for position, teaser in zip(
                insert_positions(article, len(links.also_read)), links.also_read, strict=True
            )
        }
        body = render_body(article, inserts)
        tags = "".join(
            f'<li><a href="{self.url(self.tag_path(t))}">{esc(t)}</a></li>' for t in article.tags
        )
        main = f"""
<div id="post-{post_id(article)}" class="post-{post_id(article)} post type-post status-publish \
format-standard has-post-thumbnail category-{slug(article.section)}">
<div class="td-post-header">
<ul class="td-category"><li class="entry-category"><a href="\
{self.url(self.section_path(article.section))}">{esc(article.section)}</a></li></ul>
<div class="td-post-title">
<h1 class="entry-title">{esc(article.title)}</h1>
<p class="td-post-sub-title">{esc(article.description)}</p>
<div class="td-module-meta-info">
{self._byline(article)}
<span class="td-post-date"><time class="entry-date updated td-module-date" \
datetime="{iso(article.published)}">{long_date(article.published)}</time></span>
<div class="td-post-comments"><a href="#comments">{len(comments)}</a></div>
</div>
</div>
</div>
{self._share_bar(url, article.title, "top")}
<div class="td-post-featured-image"><a href="{self.url(self.image_path(article))}">\
<img width="696" height="392" class="entry-thumb" src="{self.url(self.image_path(article))}" \
alt="{esc(article.title)}"></a></div>
<div class="td-post-content tagdiv-type">
<div class="entry-content">
{body}
{self._newsletter()}
</div>
</div>
<div class="td-post-source-tags"><ul class="td-tags td-post-small-box clearfix">\
<li><span>TAGS</span></li>{tags}</ul></div>
{self._share_bar(url, article.title, "bottom")}
{self._related(article, links.related)}
</div>
{self._comments(article, comments)}"""
        return self._page(
            title=article.title,
            canonical=url,
            head=self._article_meta(article, url),
            body_class=f"post-template-default single single-post postid-{post_id(article)}",
            crumbs=[("Home", self.prefix), (article.section, self.section_path(article.section))],
            crumb_last=article.title,
            main=main,
            popular=links.popular,
        )

    def _article_meta(self, article: Article, url: str) -> str:
        image = self.url(self.image_path(article))
        tags = "\n".join(f'<meta property="article:tag" content="{esc(t)}">' for t in article.tags)
        modified = (
            f'<meta property="article:modified_time" content="{iso(article.modified)}">\n'
            f'<meta property="og:updated_time" content="{iso(article.modified)}">'
            if article.modified
            else ""
        )
        return f"""<meta name="description" content="{esc(article.description)}">
<meta property="og:locale" content="en_US">
<meta property="og:type" content="article">
<meta property="og:title" content="{esc(article.title)}">
<meta property="og:description" content="{esc(article.description)}">
<meta property="og:url" content="{url}">
<meta property="og:site_name" content="{self.title}">
<meta property="og:image" content="{image}">
<meta property="og:image:width" content="1200">
<meta property="og:image:height" content="675">
<meta property="article:published_time" content="{iso(article.published)}">
{modified}
<meta property="article:section" content="{esc(article.section)}">
{tags}
<meta name="author" content="{esc(", ".join(article.authors))}">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="{esc(article.title)}">"""

    def _byline(self, article: Article) -> str:
        names = [
            f'<a href="{self.url(self.author_path(name))}">{esc(name)}</a>'
            for name in article.authors
        ]
        return (
            '<div class="td-post-author-name"><div class="td-author-by">By</div> '
            f'{join_names(names)}<div class="td-author-line"> - </div></div>'
        )

    def _also_read(self, teaser: Article) -> str:
        href = self.url(self.article_path(teaser))
        return f'<p><strong>Also Read:</strong> <a href="{href}">{esc(teaser.title)}</a></p>'

    def _share_bar(self, url: str, title: str, where: str) -> str:
        buttons = "\n".join(
            f'<a class="td-social-sharing-button td-social-{network.lower()}" href="{esc(href)}" '
            f'rel="nofollow noopener" target="_blank"><span class="td-social-but-text">'
            f"{network}</span></a>"
            for network, href in share_links(url, title)
        )
        return f"""<div class="td-post-sharing-{where}"><div class="td-post-sharing \
td-ps-bg td-ps-notext"><div class="td-post-sharing-visible">
<span class="td-social-share-text">Share this article</span>
{buttons}
</div></div></div>"""

    def _newsletter(self) -> str:
        return f"""<div class="td-a-rec td-a-rec-id-content_bottom newsletter-signup">
<h4 class="block-title"><span>Subscribe to our newsletter</span></h4>
<p class="newsletter-pitch">Get the day's top stories in your inbox every morning.</p>
<form class="newsletter-form" action="{self.url(self.prefix + "newsletter/")}" method="post">
<input type="email" name="email" placeholder="Your email address" required>
<button type="submit">Sign up</button>
</form>
</div>"""

    def _related(self, article: Article, related: list[Article]) -> str:
        items = "\n".join(
            f"""<div class="td-related-span4"><div class="td_module_related_posts \
td-animation-stack td_mod_related_posts"><div class="td-module-image"><div class="td-module-thumb">\
<a href="{self.url(self.article_path(other))}" rel="bookmark" class="td-image-wrap">\
<img class="entry-thumb" src="{self.url(self.image_path(other))}" alt="" width="218" height="150">\
</a></div></div><div class="item-details"><h3 class="entry-title td-module-title">\
<a href="{self.url(self.article_path(other))}" rel="bookmark">{esc(other.title)}</a></h3></div>\
</div></div>"""
            for other in related
        )
        return f"""<div class="td_block_wrap td_block_related_posts">
<h4 class="td-related-title td-block-title"><a class="td-related-left td-cur-simple-item" \
href="#">Related Posts</a><a class="td-related-right" \
href="{self.url(self.section_path(article.section))}">More from {esc(article.section)}</a></h4>
<div class="td_block_inner"><div class="td-related-row">
{items}
</div></div></div>"""

    def _comments(self, article: Article, comments: list[Comment]) -> str:
        entries = "\n".join(
            f"""<li class="comment even thread-even depth-1" id="li-comment-{n}">
<div id="comment-{post_id(article)}{n}" class="comment-body">
<div class="comment-meta"><cite class="comment-author vcard">{esc(c.author)}</cite>
<a class="comment-link" href="#comment-{post_id(article)}{n}"><time datetime="{iso(c.posted)}">\
{long_date(c.posted)} at {c.posted:%H:%M}</time></a></div>
<div class="comment-content"><p>{esc(c.text)}</p></div>
<div class="comment-respond-link"><a class="comment-reply-link" href="#respond">Reply</a></div>
</div></li>"""
            for n, c in enumerate(comments, start=1)
        )
        return f"""<div class="comments" id="comments">
<div class="td-comments-title-wrap"><h4 class="block-title"><span>{len(comments)} COMMENTS</span>\
</h4></div>
<ol class="comment-list td-comment-list">
{entries}
</ol>
<div id="respond" class="comment-respond">
<h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>
<form action="{self.url(self.prefix + "wp-comments-post.php")}" method="post" id="commentform" \
class="comment-form">
<p class="comment-notes"><span id="email-notes">Your email address will not be published.</span> \
<span class="required-field-message">Required fields are marked <span class="required">*</span>\
</span></p>
<p class="comment-form-comment"><label for="comment">Comment <span class="required">*</span>\
</label><textarea id="comment" name="comment" cols="45" rows="8" required></textarea></p>
<p class="comment-form-author"><label for="author">Name <span class="required">*</span></label>\
<input id="author" name="author" type="text" size="30" required></p>
<p class="comment-form-email"><label for="email">Email <span class="required">*</span></label>\
<input id="email" name="email" type="email" size="30" required></p>
<p class="comment-form-url"><label for="url">Website</label><input id="url" name="url" \
type="url" size="30"></p>
<p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" \
value="Post Comment"><input type="hidden" name="comment_post_ID" value="{post_id(article)}"></p>
</form>
</div>
</div>"""

    # Listings and other pages -----------------------------------------------------------

    def render_listing(self, listing: Listing) -> str:
        teasers = "\n".join(self._teaser(article) for article in listing.articles)
        heading = {
            "front": "Latest News",
            "section": listing.heading,
            "tag": f"Tag: {listing.heading}",
            "author": f"Author: {listing.heading}",
        }[listing.kind]
        nav = []
        if listing.newer_path:
            nav.append(f'<a href="{self.url(listing.newer_path)}">&laquo; Newer posts</a>')
        nav.append(f'<span class="pages">Page {listing.page} of {listing.page_count}</span>')
        if listing.older_path:
            nav.append(f'<a href="{self.url(listing.older_path)}">Older posts &raquo;</a>')
        main = f"""<div class="td-category-header"><h1 class="entry-title td-page-title">\
{esc(heading)}</h1></div>
<div class="td-block-row">
{teasers}
</div>
<div class="page-nav td-pb-padding-side">{" ".join(nav)}</div>"""
        crumbs = [] if listing.kind == "front" else [("Home", self.prefix)]
        return self._page(
            title=heading if listing.page == 1 else f"{heading} - Page {listing.page}",
            canonical=self.url(listing.path),
            head='<meta property="og:type" content="website">',
            body_class="home blog" if listing.kind == "front" else f"archive {listing.kind}",
            crumbs=crumbs,
            crumb_last=listing.heading if crumbs else "",
            main=main,
            popular=listing.articles[:5],
        )

    def _teaser(self, article: Article) -> str:
        href = self.url(self.article_path(article))
        return f"""<div class="td_module_10 td_module_wrap td-animation-stack">
<div class="td-module-thumb"><a href="{href}" rel="bookmark" class="td-image-wrap">\
<img class="entry-thumb" src="{self.url(self.image_path(article))}" alt="" width="218" \
height="150"></a></div>
<div class="item-details">
<h3 class="entry-title td-module-title"><a href="{href}" rel="bookmark">\
{esc(article.title)}</a></h3>
<div class="td-module-meta-info"><span class="td-post-author-name">\
{esc(join_names(article.authors))}</span> <span class="td-post-date"><time \
datetime="{iso(article.published)}">{long_date(article.published)}</time></span></div>
<div class="td-excerpt">{esc(article.description)}</div>
</div></div>"""

    def render_about(self) -> str:
        main = f"""<div class="td-page-header"><h1 class="entry-title td-page-title">About Us</h1>\
</div>
<div class="td-page-content tagdiv-type">
<p>{self.title} has reported on politics, business, science, sport and culture since 1921.
We are owned by a reader trust and carry no paywall.</p>
<h2 id="contact">Contact</h2>
<p>Newsroom: newsroom@dailyledger.example. Corrections: corrections@dailyledger.example.</p>
<h2 id="privacy">Privacy</h2>
<p>We use a single cookie to remember your newsletter preferences and nothing else.</p>
</div>"""
        return self._page(
            title="About Us",
            canonical=self.url(self.about_path),
            head='<meta property="og:type" content="website">',
            body_class="page-template-default page",
            crumbs=[("Home", self.prefix)],
            crumb_last="About Us",
            main=main,
            popular=[],
        )

    def render_syndication(self, articles: list[Article]) -> dict[str, Resource]:
        return {
            self.feed_path: rss_feed(self, articles),
            self.picks_feed_path: picks_feed(self, articles),
            self.sitemap_path: news_sitemap(self, articles),
        }

    # Page chrome ------------------------------------------------------------------------

    def _page(
        self,
        *,
        title: str,
        canonical: str,
        head: str,
        body_class: str,
        crumbs: list[tuple[str, str]],
        crumb_last: str,
        main: str,
        popular: list[Article],
    ) -> str:
        menu = "".join(
            '<li class="menu-item menu-item-type-taxonomy">'
            f'<a href="{self.url(self.section_path(s))}">{esc(s)}</a></li>'
            for s in self.section_order
        )
        breadcrumb = ""
        if crumbs:
            links = ' <i class="td-icon-right td-bread-sep"></i> '.join(
                f'<span><a class="entry-crumb" href="{self.url(path)}">{esc(label)}</a></span>'
                for label, path in crumbs
            )
            breadcrumb = (
                f'<div class="td-crumb-container"><div class="entry-crumbs">{links} '
                f'<i class="td-icon-right td-bread-sep td-bred-no-url-last"></i> '
                f'<span class="td-bred-no-url-last">{esc(crumb_last)}</span></div></div>'
            )
        popular_items = "".join(
            f'<li><a href="{self.url(self.article_path(a))}">{esc(a.title)}</a></li>'
            for a in popular
        )
        sections = "".join(
            f'<li><a href="{self.url(self.section_path(s))}">{esc(s)}</a></li>'
            for s in self.section_order
        )
        return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{esc(title)} - {self.title}</title>
<link rel="canonical" href="{canonical}">
<link rel="alternate" type="application/rss+xml" title="{self.title} &raquo; Feed" \
href="{self.url(self.feed_path)}">
{head}
<meta name="generator" content="WordPress 6.8.1">
<style id="td-theme-inline-css">{STYLE}</style>
<script>var tdBlocksArray = []; var tds_login_sing_in_widget = "show";</script>
</head>
<body class="{body_class} td-standard-pack global-block-template-1">
<div id="td-outer-wrap" class="td-theme-wrap">
<div class="td-header-wrap td-header-style-1">
<div class="td-header-top-menu-full td-container-wrap"><div class="td-container td-header-row \
td-header-top-menu"><div class="top-bar-style-1"><div class="td-header-sp-top-menu">
<ul class="top-header-menu"><li><a href="{self.url(self.about_path)}">About</a></li>\
<li><a href="{self.url(self.about_path)}#contact">Contact</a></li>\
<li><a href="{self.url(self.feed_path)}">RSS</a></li></ul>
</div></div></div></div>
<div class="td-banner-wrap-full td-logo-wrap-full"><div class="td-container td-header-row">
<div class="td-header-sp-logo"><a class="td-main-logo" href="{self.url(self.prefix)}">\
<span class="td-logo-text">{self.title}</span><span class="td-tagline-text">{self.tagline}</span>\
</a></div>
<div class="td-header-sp-recs"><div class="td-a-rec td-a-rec-id-header">\
<span class="td-adspot-title">- Advertisement -</span></div></div>
</div></div>
<div class="td-header-menu-wrap-full td-container-wrap"><div class="td-header-menu-wrap">
<div class="td-container td-header-row td-header-main-menu"><div id="td-header-menu" \
role="navigation"><div class="menu-main-menu-container"><ul id="menu-main-menu" class="sf-menu">\
<li class="menu-item menu-item-home"><a href="{self.url(self.prefix)}">Home</a></li>{menu}</ul>\
</div></div>
<div class="td-search-wrapper"><form method="get" class="td-search-form" \
action="{self.url(self.prefix)}"><input name="s" type="text" placeholder="Search">\
<button type="submit">Search</button></form></div>
</div></div></div>
</div>
<div class="td-main-content-wrap td-container-wrap"><div class="td-container">
{breadcrumb}
<div class="td-pb-row">
<div class="td-pb-span8 td-main-content" role="main"><div class="td-ss-main-content">
{main}
</div></div>
<div class="td-pb-span4 td-main-sidebar" role="complementary"><div class="td-ss-main-sidebar">
<div class="td_block_wrap td_block_popular"><h4 class="block-title"><span>Most Popular</span>\
</h4><ul class="td-popular-list">{popular_items}</ul></div>
<div class="td-a-rec td-a-rec-id-sidebar"><span class="td-adspot-title">- Advertisement -</span>\
</div>
</div></div>
</div>
</div></div>
<div class="td-footer-wrapper td-container-wrap"><div class="td-container">
<div class="td-footer-info"><div class="footer-logo-wrap"><a href="{self.url(self.prefix)}">\
{self.title}</a></div><div class="footer-text-wrap">{self.tagline}. Owned by its readers.\
</div></div>
<div class="td-footer-sections"><h4>Sections</h4><ul>{sections}</ul></div>
<div class="td-footer-links"><ul><li><a href="{self.url(self.about_path)}">About Us</a></li>\
<li><a href="{self.url(self.about_path)}#contact">Contact</a></li>\
<li><a href="{self.url(self.about_path)}#privacy">Privacy Policy</a></li></ul></div>
</div>
<div class="td-sub-footer-container"><div class="td-container">
<div class="td-sub-footer-copy">&copy; 2026 {self.title}. All rights reserved.</div>
<div class="td-sub-footer-menu"><a href="#td-outer-wrap" class="td-back-to-top">Back To Top</a>\
</div>
</div></div>
</div>
</div>
</body>
</html>
"""
