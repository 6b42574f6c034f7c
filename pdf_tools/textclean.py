"""Turn raw page text into what a reader would expect: normalized, de-hyphenated, in paragraphs, without
running headers, footers and page numbers."""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter

_KEEP_CONTROLS = {"\n", "\t"}
_JOINERS = {"\u200c", "\u200d"}  # zero-width (non-)joiners change Persian and Indic words: keep them
_SUPER = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻"
_SUB = "₀₁₂₃₄₅₆₇₈₉₊₋"
_SUPERSCRIPTS = re.compile(f"(?<=\\w)[{_SUPER}]+")
_SUBSCRIPTS = re.compile(f"(?<=\\w)[{_SUB}]+")
_SUPER_TO_PLAIN = str.maketrans(_SUPER, "0123456789+-")
_SUB_TO_PLAIN = str.maketrans(_SUB, "0123456789+-")
_DOT_LEADER = re.compile(r"(?:\s*\.){4,}\s*")
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-–—]?\s*\d{1,5}\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,5})?$", re.IGNORECASE)
_BULLET_START = re.compile(r"^(?:[-•*·▪◦‣]|\d{1,3}[.)]|[a-z][.)])\s")
_TERMINAL = (".", "!", "?", ":", ";", "”", "\"")


def _mark_scripts(text: str) -> str:
    """10⁶ → 10^6 and H₂O → H_2O before NFKC, which would make them 106 and H2O."""
    text = _SUPERSCRIPTS.sub(lambda match: "^" + match[0].translate(_SUPER_TO_PLAIN), text)
    return _SUBSCRIPTS.sub(lambda match: "_" + match[0].translate(_SUB_TO_PLAIN), text)


def normalize(text: str) -> str:
    """NFKC (ligatures, full-width forms), no control or invisible format characters, tidy spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub("[\u00ad\u2010](?=\n)", "-", text)  # soft or true hyphen at a line end: a word broken in two
    text = unicodedata.normalize("NFKC", _mark_scripts(text))
    text = "".join(
        char for char in text
        if char in _KEEP_CONTROLS or char in _JOINERS
        or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    text = _DOT_LEADER.sub(" … ", text)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(lines)


def _signature(line: str) -> str:
    if not any(char.isalpha() for char in line):
        return line.strip()
    return re.sub(r"\d+", "#", line.lower()).strip()


def remove_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers, and header or footer lines that repeat (digits aside) across many pages."""
    edge = 3
    counts: Counter[str] = Counter()
    for lines in pages:
        content = [line for line in lines if line]
        counts.update({_signature(line) for line in content[:edge] + content[-edge:]})
    # Repetition means something only across several pages; digits are masked only in lines with letters.
    threshold = max(2, int(len(pages) * 0.5 + 0.5)) if len(pages) >= 3 else None
    cleaned: list[list[str]] = []
    for lines in pages:
        content_positions = [i for i, line in enumerate(lines) if line]
        edges = set(content_positions[:edge] + content_positions[-edge:])
        outermost = set(content_positions[:1] + content_positions[-1:])
        kept = []
        for position, line in enumerate(lines):
            if position in edges:
                if position in outermost and len(pages) >= 2 and _PAGE_NUMBER.match(line):
                    continue
                if threshold and len(line) <= 80 and counts[_signature(line)] >= threshold:
                    continue
            kept.append(line)
        cleaned.append(kept)
    return cleaned


def _is_heading(line: str, typical: float) -> bool:
    """A short line without closing punctuation that stands alone, like a title."""
    return (
        len(line.split()) <= 12
        and len(line) < 0.7 * typical
        and not line.endswith((*_TERMINAL, ",", "-"))
        and line[:1].isupper()
    )


def join_paragraphs(lines: list[str]) -> str:
    """Join wrapped lines into paragraphs and undo line-break hyphenation."""
    lengths = [len(line) for line in lines if line]
    typical = statistics.median(lengths) if lengths else 0
    paragraphs: list[str] = []
    current = ""
    previous = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current, previous = "", ""
            continue
        starts_new = (
            not current
            or _BULLET_START.match(line)
            or (previous.endswith(_TERMINAL) and len(previous) < 0.8 * typical)
            or (current == previous and _is_heading(previous, typical) and line[:1].isupper())
        )
        if starts_new:
            if current:
                paragraphs.append(current)
            current = line
        elif current.endswith("-") and current[-2:-1].isalpha() and line[:1].islower():
            current = current[:-1] + line  # "exam-" + "ple" was one word broken at the line end
        else:
            current = f"{current} {line}"
        previous = line
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)


def clean_pages(raw_pages: list[str]) -> list[str]:
    """Clean the text of consecutive pages together (running headers need the neighbours)."""
    split = [normalize(text).split("\n") for text in raw_pages]
    return [join_paragraphs(lines).strip() for lines in remove_running_lines(split)]
