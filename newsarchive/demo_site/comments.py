"""Reader comments shown under each article, picked deterministically per article."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from .content import Article

COMMENTERS = (
    "Margaret H.",
    "dave_from_northshore",
    "Luis Ortega",
    "Sam W.",
    "Annelise",
    "K. Brennan",
    "Old Salt",
    "Priti",
    "Gordon McAllister",
    "JennyR",
    "Tomas",
    "Harbourwatcher",
)

REMARKS = (
    "Thanks for actually explaining this instead of just quoting press releases.",
    "I have been saying this for years and nobody listened. Glad it is finally in the news.",
    "Does anyone know where the full report can be found? The link on the official site is broken.",
    "Interesting piece, but I would have liked to hear from people who disagree with the plan.",
    "My father worked on this for decades. He would have been pleased to read this.",
    "Great reporting as always. Please keep following this story.",
    "The numbers in the fourth paragraph do not add up to me. Can someone check?",
    "This affects my family directly and I still do not understand what happens next.",
    "Typical. Announce it with a big fanfare and then quietly delay it for three years.",
    "Shared this with my neighbours, we were all talking about it at the weekend.",
    "Finally some good news. More of this please!",
    "I went along last week and can confirm it is every bit as busy as described.",
)


@dataclass(frozen=True)
class Comment:
    """One reader comment."""

    author: str
    posted: datetime
    text: str


def comments_for(article: Article) -> list[Comment]:
    """Two or three plausible comments, posted in the hours after publication."""
    digest = hashlib.sha256(article.slug.encode()).digest()
    count = 2 + digest[0] % 2
    comments = []
    for n in range(count):
        author = COMMENTERS[(digest[1] + 5 * n) % len(COMMENTERS)]
        text = REMARKS[(digest[2] + 7 * n) % len(REMARKS)]
        posted = article.published + timedelta(hours=1 + n * 3, minutes=digest[3 + n] % 60)
        comments.append(Comment(author, posted, text))
    return comments
