"""Split a document into chunks that fit a token budget, at paragraph and sentence boundaries, keeping pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from llm.cleanup import split_sentences
from llm.model import Model


@dataclass(frozen=True)
class TextBlock:
    """A stretch of document text and the page it is on (None for plain text)."""

    text: str
    page: int | None = None


@dataclass
class Chunk:
    """Consecutive text that fits one prompt, with the pages it spans."""

    text: str
    pages: list[int] = field(default_factory=list)
    page_texts: dict[int, str] = field(default_factory=dict)
    tokens: int = 0


def blocks_from_text(text: str) -> list[TextBlock]:
    """A plain text as one block with no page."""
    return [TextBlock(text)]


def _paragraphs(blocks: Iterable[TextBlock]) -> Iterable[TextBlock]:
    for block in blocks:
        for paragraph in re.split(r"\n\s*\n", block.text):
            paragraph = paragraph.strip()
            if paragraph:
                yield TextBlock(paragraph, block.page)


def _units(blocks: Iterable[TextBlock], model: Model, budget: int) -> Iterable[tuple[TextBlock, int]]:
    """Paragraphs that fit the budget; longer ones split into sentences; longer sentences cut by tokens."""
    for paragraph in _paragraphs(blocks):
        tokens = model.count_tokens(paragraph.text)
        if tokens <= budget:
            yield paragraph, tokens
            continue
        for sentence in split_sentences(paragraph.text):
            rest = sentence
            while rest:
                head, rest = model.split_tokens(rest, budget)
                head = head.strip()
                rest = rest.strip()
                if head:
                    yield TextBlock(head, paragraph.page), model.count_tokens(head)


def chunk_blocks(
    blocks: list[TextBlock], model: Model, budget: int, separator_tokens: int = 2
) -> list[Chunk]:
    """Pack the document's text, in order, into chunks of at most budget tokens; nothing is dropped."""
    if budget < 16:
        raise ValueError(f"chunk budget of {budget} tokens is too small")
    chunks: list[Chunk] = []
    parts: list[TextBlock] = []
    used = 0

    def flush() -> None:
        if parts:
            chunks.extend(_finish(parts, model, budget))

    for unit, tokens in _units(blocks, model, budget):
        if parts and used + separator_tokens + tokens > budget:
            flush()
            parts, used = [], 0
        parts.append(unit)
        used += tokens + (separator_tokens if len(parts) > 1 else 0)
    flush()
    return chunks


def _finish(parts: list[TextBlock], model: Model, budget: int) -> list[Chunk]:
    """Join parts into a chunk, splitting again if the joined text counts more tokens than the parts did."""
    text = "\n\n".join(part.text for part in parts)
    tokens = model.count_tokens(text)
    if tokens > budget and len(parts) > 1:
        middle = len(parts) // 2
        return _finish(parts[:middle], model, budget) + _finish(parts[middle:], model, budget)
    if tokens > budget:  # one part that re-tokenizes longer than it counted: cut it again
        head, rest = model.split_tokens(text, budget - 4)
        page = parts[0].page
        return _finish([TextBlock(head.strip(), page)], model, budget) + _finish(
            [TextBlock(rest.strip(), page)], model, budget
        )
    page_texts: dict[int, str] = {}
    for part in parts:
        if part.page is not None:
            page_texts[part.page] = f"{page_texts.get(part.page, '')}\n\n{part.text}".strip()
    return [Chunk(text=text, pages=sorted(page_texts), page_texts=page_texts, tokens=tokens)]


def pack_texts(texts: list[str], count_tokens: Callable[[str], int], budget: int) -> list[list[str]]:
    """Group consecutive texts so each group's total stays within budget (a lone oversized text stays alone)."""
    groups: list[list[str]] = []
    current: list[str] = []
    used = 0
    for text in texts:
        tokens = count_tokens(text) + 2
        if current and used + tokens > budget:
            groups.append(current)
            current, used = [], 0
        current.append(text)
        used += tokens
    if current:
        groups.append(current)
    return groups
