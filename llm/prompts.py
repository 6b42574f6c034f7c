"""Prompt texts for each task; the document comes first and the instruction last, which small models follow best."""

from __future__ import annotations

from dataclasses import dataclass

from llm.model import Message

SYSTEM = (
    "You are a careful assistant that summarizes documents. Use only facts stated in the document. "
    "Write plain prose without headings or preambles."
)


@dataclass(frozen=True)
class LengthSpec:
    """How long a summary of a given length should be."""

    instruction: str
    max_tokens: int


LENGTHS = {
    "short": LengthSpec("in 2 to 3 sentences", 120),
    "medium": LengthSpec("in one paragraph of 4 to 6 sentences", 250),
    "long": LengthSpec("in 2 to 3 paragraphs that cover every main topic", 500),
}


def _messages(user: str) -> list[Message]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def summary(text: str, length: str) -> list[Message]:
    """Summarize a whole text at the requested length."""
    return _messages(f"{text}\n\nWrite a summary of the document above {LENGTHS[length].instruction}.")


def section(text: str, words: int) -> list[Message]:
    """Summarize one part of a longer document (the map step)."""
    return _messages(
        f"{text}\n\nThe text above is one part of a longer document. Summarize it in at most {words} words. "
        "Keep names, numbers and the main facts. Write plain sentences in the text's own voice, not a list."
    )


def merge(summaries: list[str], instruction: str) -> list[Message]:
    """Combine summaries of consecutive parts into one summary."""
    joined = "\n\n".join(summaries)
    return _messages(
        f"{joined}\n\nThe paragraphs above summarize consecutive parts of one document. "
        f"Combine them into one summary of the whole document {instruction}."
    )


def points(text: str, count: int) -> list[Message]:
    """List the key points of a text."""
    return _messages(
        f"{text}\n\nList the {count} most important points of the document above as a numbered list. "
        "Each point is one complete sentence with a specific fact from the document."
    )


def more_points(text: str, count: int, found: list[str]) -> list[Message]:
    """Ask for points other than the ones already found."""
    already = "\n".join(f"- {point}" for point in found)
    return _messages(
        f"{text}\n\nThese points are already listed:\n{already}\n\nList {count} other important points of the "
        "document above as a numbered list, each one complete sentence with a specific fact."
    )
