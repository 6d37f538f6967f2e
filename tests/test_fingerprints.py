"""Fingerprints of an article's text: the SimHash must stay trafilatura's, bit for bit, since
archives store it and near-duplicate lookups compare new articles with old ones."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from trafilatura.deduplication import Simhash

from pipelines.article.fingerprints import add_fingerprints, content_hash, simhash

FIXTURES = Path(__file__).parent / "fixtures"


def trafilaturas(text: str) -> str:
    return f"{Simhash(text).hash:016x}"


def test_simhash_is_trafilaturas_on_real_articles() -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("**/*.expected.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("extraction/*.html"))]
    assert len(texts) >= 5
    for text in texts:
        assert simhash(text) == trafilaturas(text)


def test_simhash_of_texts_without_tokens() -> None:
    for text in ("", "   ", "。。。", "!!!"):
        assert simhash(text) == trafilaturas(text) == "f" * 16


# Words, punctuation, digits and CJK text, which trafilatura tokenizes differently.
ALPHABET = st.sampled_from("ab cd e\u00e9 fghij, klm. 12 \u4e2d\u6587\u3002")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=400))
def test_simhash_is_trafilaturas_on_any_text(text: str) -> None:
    assert simhash(text) == trafilaturas(text)


def test_near_duplicates_have_close_simhashes() -> None:
    text = " ".join(f"word{i} sentence{i % 17} article{i % 5}" for i in range(300))
    edited = text.replace("word7 ", "changed ")
    distance = (int(simhash(text), 16) ^ int(simhash(edited), 16)).bit_count()
    assert distance <= 3


def test_add_fingerprints_keeps_given_ones() -> None:
    extracted = add_fingerprints({"text": "Some text of an article."})
    assert extracted["content_hash"] == content_hash("Some  text of an article. ")
    assert extracted["simhash"] == simhash("Some text of an article.")
    assert add_fingerprints({"text": "x", "simhash": "given"})["simhash"] == "given"
