"""How stored text is cut: files without pages into pages of about PAGE_CHARS (at paragraph ends, so every citation
still names a page), and every page into passages of a few sentences, the units retrieval finds and quotes come
from."""

from __future__ import annotations

import re

from llm.cleanup import split_sentences

PAGE_CHARS = 3000  # about a printed page: a citation of a text file points somewhere a reader can find
PASSAGE_WORDS = 90  # a passage is a few sentences: enough context to answer from, short enough to rank sharply


def paginate(text: str, page_chars: int = PAGE_CHARS) -> list[str]:
    """A text without pages, cut into pages of about page_chars at paragraph ends (a longer paragraph at sentence
    ends, a longer sentence where it must)."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= page_chars:
            pieces.append(paragraph)
            continue
        for sentence in split_sentences(paragraph):
            pieces.extend(sentence[start:start + page_chars] for start in range(0, len(sentence), page_chars))
    pages: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        if current and size + len(piece) > page_chars:
            pages.append("\n\n".join(current))
            current, size = [], 0
        current.append(piece)
        size += len(piece) + 2
    if current:
        pages.append("\n\n".join(current))
    return pages


def passages(page_text: str, words_per_passage: int = PASSAGE_WORDS) -> list[str]:
    """A page's passages: consecutive sentences of about words_per_passage words, never across paragraphs."""
    found: list[str] = []
    for paragraph in re.split(r"\n\s*\n", page_text):
        current: list[str] = []
        count = 0
        for sentence in split_sentences(" ".join(paragraph.split())):
            size = len(sentence.split())
            if current and count + size > words_per_passage:
                found.append(" ".join(current))
                current, count = [], 0
            current.append(sentence)
            count += size
        if current:
            found.append(" ".join(current))
    return found


def normalize_space(text: str) -> str:
    """Text with every run of whitespace as one space: how quotes are compared with their page."""
    return " ".join(text.split())
