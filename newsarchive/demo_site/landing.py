"""Pages that belong to the host rather than to one site: the root index and the 404 page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .markup import esc
from .publication import SITE_LAUNCH
from .resource import HTML, Resource

if TYPE_CHECKING:
    from .publication import Publication


def landing_page(publications: Iterable[Publication]) -> Resource:
    """The host's root page, linking to each demo site."""
    items = "\n".join(
        f'<li><a href="{p.prefix}">{esc(p.title)}</a> &ndash; {esc(p.tagline)}</li>'
        for p in publications
    )
    text = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>newsarchive demo sites</title></head>
<body>
<h1>newsarchive demo sites</h1>
<p>Two offline news sites for trying out the crawler. Everything here is fiction.</p>
<ul>
{items}
</ul>
<p><a href="/robots.txt">robots.txt</a></p>
</body>
</html>
"""
    return Resource.text(text, HTML, SITE_LAUNCH)


NOT_FOUND_PAGE = b"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Page not found</title></head>
<body>
<h1>404 &ndash; Page not found</h1>
<p>Sorry, there is nothing at this address. Try the <a href="/">home page</a>.</p>
</body>
</html>
"""
