"""The bundled offline demo news sites: two fictional papers served on 127.0.0.1.

"The Daily Ledger" (/ledger/, WordPress-style) and "Harbor Times" (/harbor/, modern HTML5 +
JSON-LD) share one server. Articles live in `articles/*.txt`; `DemoSite` renders them with
all the boilerplate real news pages carry, and knows each article's clean text.

    from newsarchive.demo_site import serve_demo_site

    with serve_demo_site() as server:
        server.sources_toml()           # entry points for the crawler
        server.expected_articles()      # what a perfect archive would hold
        server.site.update_article("harbor-tunnel-vote", paragraphs=["..."])
        server.requests.count("/ledger/")
"""

from .content import Article, Block, load_articles
from .expected import ExpectedArticle
from .server import DemoServer, RequestLog, RequestRecord, serve_demo_site
from .site import DemoSite
from .sources import render_sources_toml

__all__ = [
    "Article",
    "Block",
    "DemoServer",
    "DemoSite",
    "ExpectedArticle",
    "RequestLog",
    "RequestRecord",
    "load_articles",
    "render_sources_toml",
    "serve_demo_site",
]
