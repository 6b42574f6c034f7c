"""Output hygiene for small models: template tokens, preambles, loops and repeated sentences."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SPECIAL_TOKENS = re.compile(
    r"<\|[^|<>\n]{1,40}\|>(?:\s*(?:assistant|user|system)\b)?|</?s>|\[/?INST\]|<</?SYS>>|<unk>|<pad>"
)
_PREAMBLE = re.compile(
    r"^\s*(?:(?:sure|certainly|of course|okay|ok)\b[^\n]*?[.!:]\s*)?"
    r"(?:here(?: is|'s| are)\b[^\n]*?:|(?:the )?(?:summary|key points|main points|points)\s*(?:of [^\n:]*)?:)\s*",
    re.IGNORECASE,
)
_ABBREVIATIONS = (
    "e.g.", "i.e.", "etc.", "vs.", "et al.", "fig.", "eq.", "no.", "dr.", "mr.", "mrs.", "ms.", "prof.",
    "inc.", "ltd.", "co.", "jr.", "sr.", "st.", "cf.", "approx.", "dept.", "univ.", "vol.", "pp.", "sec.",
)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
# A sentence ends at . ! ? (with any closing quotes or brackets) before a capital or digit, or at 。！？.
_SENTENCE_END = re.compile(
    r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9À-ÝА-Я])|[。！？]+[」』”’)）]*"
)
# CJK has no spaces between words: each character counts as a word for comparisons.
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+", re.UNICODE)
_CHARACTER_LOOP = re.compile(r"(\S{2,20}?)\1{4,}")
_BULLET = re.compile(r"^\s*(?:[-*•·–]|\(?\d{1,2}[.):]|\(?[a-z][.)])\s+", re.IGNORECASE)
_TERMINAL = (".", "!", "?", "\"", "'", ")", "”", "’", "。", "！", "？", "」")


def strip_special_tokens(text: str) -> str:
    """Remove chat-template tokens that leaked into the output."""
    return _SPECIAL_TOKENS.sub("", text)


def strip_preamble(text: str) -> str:
    """Remove openers such as 'Here is a summary of the text:'."""
    return _PREAMBLE.sub("", text, count=1)


def _ends_with_abbreviation(sentence: str) -> bool:
    tail = sentence.lower().rsplit(None, 2)
    return tail[-1] in _ABBREVIATIONS or " ".join(tail[-2:]) in _ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping common abbreviations and closing quotes intact."""
    text = text.strip()
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    pieces.append(text[start:])
    sentences: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if sentences and _ends_with_abbreviation(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def is_cjk(word: str) -> bool:
    """Whether a word is a CJK character (which the word functions count one by one)."""
    return len(word) == 1 and re.match(f"[{_CJK}]", word) is not None


def words(text: str) -> list[str]:
    """Lower-case words of a text, for comparisons."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def similarity(a: str, b: str) -> float:
    """Word-set overlap of two texts, 0 to 1 (Jaccard index)."""
    set_a, set_b = set(words(a)), set(words(b))
    if not set_a or not set_b:
        return 0.0
    return len(set_a & set_b) / len(set_a | set_b)


def copied_sentence(text: str, sentences: list[str], threshold: float) -> str | None:
    """The first of the sentences that the text copies almost word for word (word overlap at least threshold)."""
    mine = set(words(text))
    for sentence in sentences:
        theirs = set(words(sentence))
        if mine and len(mine & theirs) / len(mine | theirs) >= threshold:
            return sentence
    return None


def is_near_duplicate(candidate: str, kept: list[str], threshold: float = 0.7) -> bool:
    """Whether candidate says what one of the kept texts already says."""
    key = " ".join(words(candidate))
    for other in kept:
        other_key = " ".join(words(other))
        if key == other_key or (len(key) > 12 and (key in other_key or other_key in key)):
            return True
        if similarity(candidate, other) >= threshold:
            return True
    return False


def cut_loop(text: str, max_repeats: int = 2) -> tuple[str, bool]:
    """Cut a run where the same phrase (1 to 12 words) repeats more than max_repeats times in a row."""
    text, character_loops = _CHARACTER_LOOP.subn(r"\1", text)
    if character_loops:
        return cut_loop(text, max_repeats)[0], True
    tokens = text.split()
    lowered = [token.lower().strip(".,;:!?") for token in tokens]
    for start in range(len(tokens)):
        for size in range(1, 13):
            if start + size * (max_repeats + 1) > len(tokens):
                break
            phrase = lowered[start : start + size]
            repeats = 1
            position = start + size
            while lowered[position : position + size] == phrase:
                repeats += 1
                position += size
            if repeats > max_repeats:
                kept = " ".join(tokens[: start + size])
                return kept.rstrip(",;:") , True
    return text, False


def _drop_leading_heading(text: str) -> str:
    """Drop a title line (short, no closing punctuation, not a list item) that opens an answer before its prose."""
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if (
        len(lines) > 1
        and first
        and len(first.split()) <= 12
        and not first.endswith((".", "!", "?", ",", "。", "！", "？"))
        and not _BULLET.match(first)
    ):
        lines.pop(0)
    return "\n".join(lines).strip()


@dataclass(frozen=True)
class CleanText:
    """Cleaned model output and whether the raw output had degenerated (loops or repeats)."""

    text: str
    degenerate: bool
    removed: int
    cut: bool = False  # the output hit its token cap


def clean_prose(text: str, *, truncated: bool = False) -> CleanText:
    """Clean a prose answer: template tokens, preamble, loops, repeated sentences, a cut-off last sentence."""
    text = _drop_leading_heading(strip_preamble(strip_special_tokens(text)).strip())
    text = re.sub(r"(?m)^\s*(?:[-*•]|\d{1,2}[.)])\s*$", "", text)  # list markers with nothing after them
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    kept_sentences: list[str] = []
    output_paragraphs: list[str] = []
    removed = 0
    looped = False
    for paragraph in paragraphs:
        kept_here: list[str] = []
        for sentence in split_sentences(" ".join(paragraph.split())):
            sentence, had_loop = cut_loop(sentence)
            looped |= had_loop
            if not words(sentence):
                continue
            if is_near_duplicate(sentence, kept_sentences, threshold=0.8):
                removed += 1
                continue
            kept_sentences.append(sentence)
            kept_here.append(sentence)
        if kept_here:
            output_paragraphs.append(" ".join(kept_here))
    if truncated and len(kept_sentences) > 1 and not kept_sentences[-1].endswith(_TERMINAL):
        last = kept_sentences[-1]
        output_paragraphs[-1] = output_paragraphs[-1][: -len(last)].rstrip()
        if not output_paragraphs[-1]:
            output_paragraphs.pop()
    total = len(kept_sentences) + removed
    degenerate = looped or (total >= 3 and removed / total > 0.3)
    return CleanText("\n\n".join(output_paragraphs).strip(), degenerate, removed, cut=truncated)


def parse_points(text: str) -> list[str]:
    """The items of a list the model wrote (bulleted, numbered, or one per line), cleaned."""
    text = strip_special_tokens(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    bulleted = [line for line in lines if _BULLET.match(line)]
    if len(bulleted) >= 2 or (bulleted and len(lines) == 1):
        items = [_BULLET.sub("", line, count=1) for line in bulleted]
    elif len(lines) >= 2:
        items = lines
    else:
        items = split_sentences(strip_preamble(text))
    points: list[str] = []
    for item in items:
        item = strip_preamble(item).strip().strip("*_").strip()
        item = re.sub(r"^\*\*([^*]+)\*\*:?\s*", r"\1: ", item).replace("**", "")
        item, _ = cut_loop(item)
        if item.endswith(":") or len(words(item)) < 3:
            continue
        points.append(item)
    return points


_STOPWORDS = frozenset(
    {
        "a", "an", "the", "and", "or", "but", "if", "then", "than", "of", "to", "in", "on", "at", "by", "for", "with",
        "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those",
        "there", "their", "they", "them", "he", "she", "his", "her", "we", "our", "you", "your", "i", "not", "no",
        "so", "such", "can", "could", "will", "would", "may", "might", "must", "shall", "should", "do", "does", "did",
        "has", "have", "had", "also", "into", "about", "over", "under", "more", "most", "other", "some", "any", "each",
        "which", "who", "whom", "whose", "what", "when", "where", "why", "how", "all", "both", "very", "just", "only",
        "own", "same", "too",
    }
)


def content_words(text: str) -> list[str]:
    """Words that carry meaning: no stopwords, no one- or two-letter words."""
    return [word for word in words(text) if (len(word) > 2 or is_cjk(word)) and word not in _STOPWORDS]
