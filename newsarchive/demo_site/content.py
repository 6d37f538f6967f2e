"""The demo articles: parsed from small text files, with their known clean text.

Each file in `articles/` is one article. The file name (without `.txt`) is the slug. The file
starts with a header block of `Key: value` lines, then a blank line, then the body:

    Title: Council approves harbour tunnel
    Site: harbor
    Section: City
    Authors: Mara Quinlan; Jonah Pike
    Published: 2026-03-14T08:15:00+00:00
    Modified: 2026-03-14T12:40:00+00:00      (optional)
    Tags: transport, city council
    Description: One-sentence standfirst.
    Image: tunnel.png                         (optional, defaults to <slug>.png)

Body blocks are separated by blank lines: `## ` starts a subheading, `> ` a block quote,
lines starting with `- ` form a list, anything else is a paragraph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

ARTICLES_DIR = Path(__file__).parent / "articles"

BlockKind = Literal["paragraph", "heading", "quote", "list"]


@dataclass(frozen=True)
class Block:
    """One piece of an article body; `items` is only used by lists."""

    kind: BlockKind
    text: str = ""
    items: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The block's lines of clean text: one per list item ("- item", as plain text
        renders a list), otherwise one."""
        return [f"- {item}" for item in self.items] if self.kind == "list" else [self.text]


@dataclass(frozen=True)
class Article:
    """A news article as the demo sites publish it."""

    slug: str
    site: str
    title: str
    section: str
    authors: tuple[str, ...]
    published: datetime
    description: str
    blocks: tuple[Block, ...]
    tags: tuple[str, ...] = ()
    modified: datetime | None = None
    image: str = field(default="")

    def __post_init__(self) -> None:
        if not self.image:
            object.__setattr__(self, "image", f"{self.slug}.png")
        for moment in (self.published, self.modified):
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"{self.slug}: dates must carry a time zone")

    @property
    def updated(self) -> datetime:
        """When the article last changed: its modified date, else its published date."""
        return self.modified or self.published

    @property
    def paragraphs(self) -> list[str]:
        """The plain paragraphs of the body, without subheadings, quotes and lists."""
        return [block.text for block in self.blocks if block.kind == "paragraph"]

    @property
    def expected_text(self) -> str:
        """The article's clean text: every body line in order, joined by newlines."""
        return "\n".join(line for block in self.blocks for line in block.lines())

    @property
    def word_count(self) -> int:
        """Number of words in the clean text."""
        return len(self.expected_text.split())


def paragraph_blocks(paragraphs: list[str] | tuple[str, ...]) -> tuple[Block, ...]:
    """Turn plain strings into paragraph blocks (used when editing or adding articles)."""
    return tuple(Block("paragraph", text.strip()) for text in paragraphs if text.strip())


def parse_datetime(value: str) -> datetime:
    """Parse an ISO 8601 date-time that must carry a time zone ("Z" allowed)."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"date without time zone: {value!r}")
    return moment


def _split(value: str, separator: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(separator) if part.strip())


def _parse_block(chunk: list[str]) -> Block:
    first = chunk[0]
    if first.startswith("## "):
        return Block("heading", " ".join(chunk)[3:].strip())
    if first.startswith("> "):
        return Block("quote", " ".join(line.removeprefix("> ").strip() for line in chunk))
    if all(line.startswith("- ") for line in chunk):
        return Block("list", items=tuple(line[2:].strip() for line in chunk))
    return Block("paragraph", " ".join(line.strip() for line in chunk))


def _parse_body(lines: list[str]) -> tuple[Block, ...]:
    blocks: list[Block] = []
    chunk: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            chunk.append(line.rstrip())
        elif chunk:
            blocks.append(_parse_block(chunk))
            chunk = []
    return tuple(blocks)


def parse_article(slug: str, source: str) -> Article:
    """Parse one article file's text (header block, blank line, body)."""
    header_text, _, body_text = source.strip().partition("\n\n")
    header: dict[str, str] = {}
    for line in header_text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{slug}: bad header line {line!r}")
        header[key.strip().lower()] = value.strip()
    try:
        return Article(
            slug=slug,
            site=header["site"],
            title=header["title"],
            section=header["section"],
            authors=_split(header["authors"], ";"),
            published=parse_datetime(header["published"]),
            modified=parse_datetime(header["modified"]) if "modified" in header else None,
            tags=_split(header.get("tags", ""), ","),
            description=header["description"],
            image=header.get("image", ""),
            blocks=_parse_body(body_text.splitlines()),
        )
    except KeyError as missing:
        raise ValueError(f"{slug}: header {missing} is missing") from None


def load_articles(directory: Path = ARTICLES_DIR) -> list[Article]:
    """Load every article file in `directory`, newest first."""
    articles = [
        parse_article(path.stem, path.read_text(encoding="utf-8"))
        for path in directory.glob("*.txt")
    ]
    return sorted(articles, key=lambda article: article.published, reverse=True)
