"""Messages written from key points: `n` distinct email variants, each checked for the points it states and for
facts its input does not hold.

How a variant is made, and why it can be trusted:
1. The model writes the body from the points; each variant is asked from its own angle (llm/prompts.py
   MESSAGE_ANGLES) and seed, so variants differ also at temperature 0. The greeting, the sign-off and the subject
   are not the model's: they are made from the request's fields, so no name is invented there.
2. Whatever the model wrote around the body (a subject line, a greeting, a signature, `[placeholders]`) is cut,
   and every sentence stating a name, number or acronym that the points, the sender, the recipient, the purpose
   (and a stored document) do not hold is dropped (llm/facts.py, the summaries' checker).
3. A point counts as covered when at least MESSAGE_POINT_COVERAGE of its content words, stemmed (Snowball's
   English stemmer), appear in the message. A variant that leaves points out is given one more call, for a
   sentence per missing point; what still is not covered is reported as missing.
4. A variant that says what an earlier one says is written once more with another seed; if it is still the
   same, it is left out (with a warning) rather than shown twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import snowballstemmer

from llm import prompts
from llm.budgets import BUDGETS, margin
from llm.cleanup import clean_prose, content_words, is_near_duplicate, split_sentences
from llm.errors import InputTooLargeError
from llm.facts import Checked, SourceIndex, check_text
from llm.model import Model
from llm.runner import TaskRunner

TONES = tuple(prompts.MESSAGE_TONES)
WRITING_STAGE = "writing messages"  # the progress stage of a message job (the web page names it)
_GREETINGS = {"formal": ("Dear {},", "Dear colleagues,"), "friendly": ("Hi {},", "Hi all,"), "brief": ("{},", "")}
_SIGN_OFFS = {"formal": "Kind regards,", "friendly": "Thanks,", "brief": ""}
# Lines a model writes around a body: a subject, a greeting, a sign-off (everything after one is a signature).
_SUBJECT_LINE = re.compile(r"^\s*(?:subject|re|to|from|date|cc)\s*:", re.IGNORECASE)
_GREETING_LINE = re.compile(r"^\s*(?:dear|hi|hello|hey|greetings|good (?:morning|afternoon|evening))\b[^.!?]{0,60}"
                            r"[,!:]?\s*$", re.IGNORECASE)
_SIGN_OFF_LINE = re.compile(r"^\s*(?:(?:best|kind|warm|warmest)(?: regards| wishes)?|regards|sincerely|yours(?: "
                            r"\w+)?|cheers|thanks(?: again)?|thank you|many thanks|all the best|p\.?\s?s\.?)\b[^.!?]"
                            r"{0,40}[,.!]?\s*$", re.IGNORECASE)
_ADDRESS_LINE = re.compile(r"^\s*(?:[\w'’.-]+\s+){0,3}[\w'’.-]+\s*,\s*$")
_PLACEHOLDER = re.compile(r"\[[^\]]*\]|<[^>]*>|\{[^}]*\}")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s*")
_STEMMER = snowballstemmer.stemmer("english")


@dataclass
class Variant:
    """One message: its subject and body, and the points (by index) it covers and misses."""

    subject: str
    body: str
    covered: list[int]
    missing: list[int]


@dataclass
class Messages:
    """The variants written, what the fact check did over all of them, and what went less than perfectly."""

    variants: list[Variant]
    warnings: list[str] = field(default_factory=list)
    facts: int = 0
    rewritten: int = 0
    dropped: int = 0


@dataclass(frozen=True)
class Letter:
    """What a message is about and who it is between, as the request gave them."""

    points: tuple[str, ...]
    sender: str = ""
    recipient: str = ""
    purpose: str = ""
    tone: str = "friendly"
    source: str = ""  # a stored document the points came from: its facts may be used too


@cache
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def point_stems(text: str) -> set[str]:
    """The stems of a text's content words (what coverage compares)."""
    return {_stem(word) for word in content_words(text)}


def covers(message: str, point: str) -> bool:
    """Whether the message states the point: at least MESSAGE_POINT_COVERAGE of its stemmed content words appear."""
    wanted = point_stems(point)
    if not wanted:
        return True
    return len(wanted & point_stems(message)) / len(wanted) >= BUDGETS.message_point_coverage


def coverage(message: str, points: tuple[str, ...] | list[str]) -> tuple[list[int], list[int]]:
    """The indices of the points the message covers, and of those it misses."""
    covered = [index for index, point in enumerate(points) if covers(message, point)]
    return covered, [index for index in range(len(points)) if index not in covered]


def split_points(text: str) -> list[str]:
    """The points of one text: one per line when it has several lines (list markers dropped), else one per
    sentence (the older client sent "we will have a system update on friday. please backup your work")."""
    lines = [_LIST_MARKER.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > 1:
        return lines
    # Sentences, also where a point was typed in lower case after the full stop.
    pieces = (re.split(r"(?<=[.!?;])\s+(?=[a-z])", sentence) for sentence in split_sentences(" ".join(lines)))
    return [piece.strip() for sentences in pieces for piece in sentences if piece.strip()]


def subject_of(letter: Letter) -> str:
    """The subject line: the purpose, or the first point's opening words."""
    text = letter.purpose.strip() or letter.points[0].strip()
    words = text.rstrip(".!?").split()
    if len(words) > BUDGETS.message_subject_words:
        words = words[:BUDGETS.message_subject_words]
        while len(words) > 2 and words[-1].lower() in {"a", "an", "the", "of", "to", "on", "in", "and", "for", "at"}:
            words.pop()
    subject = " ".join(words)
    return subject[:1].upper() + subject[1:]


def _framed(body: str, letter: Letter) -> str:
    """The body with its greeting and sign-off (made from the request, never by the model)."""
    named, unnamed = _GREETINGS[letter.tone]
    greeting = named.format(letter.recipient.strip()) if letter.recipient.strip() else unnamed
    sign_off = "\n".join(part for part in (_SIGN_OFFS[letter.tone], letter.sender.strip()) if part)
    return "\n\n".join(part for part in (greeting, body, sign_off) if part)


def body_of(raw: str) -> str:
    """What the model wrote as a body, without the subject, greeting and signature it may have added, without list
    markers and quotation marks around sentences, and without sentences holding placeholders ("[Your Name]")."""
    lines = raw.replace("```", "").splitlines()
    kept: list[str] = []
    for line in lines:
        if _SIGN_OFF_LINE.match(line) and kept:
            break  # a sign-off: what follows is a signature
        if _SUBJECT_LINE.match(line) or (_GREETING_LINE.match(line) and not any(text.strip() for text in kept)):
            continue
        if _ADDRESS_LINE.match(line):  # "Dana," on a line of its own: a greeting or signature, not the body
            continue
        kept.append(line)
    cleaned = clean_prose("\n".join(kept)).text
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", cleaned):
        sentences = [_LIST_MARKER.sub("", sentence).strip(" \"“”'") for sentence in split_sentences(paragraph)]
        sentences = [sentence for sentence in sentences
                     if len(content_words(sentence)) > 0 and not _PLACEHOLDER.search(sentence)]
        if sentences:
            paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def on_topic(text: str, letter: Letter) -> str:
    """The sentences of a body that are about the letter: at least MESSAGE_MIN_GROUNDING of their content words
    (stemmed) are in the points and fields. A small model pads an email with claims of its own ("a new
    cybersecurity standard"); the fact check cannot see those, this can."""
    wanted = point_stems(" ".join([*letter.points, letter.sender, letter.recipient, letter.purpose]))
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text):
        kept = [sentence for sentence in split_sentences(paragraph)
                if len(point_stems(sentence) & wanted) >= BUDGETS.message_min_grounding * len(point_stems(sentence))]
        if kept:
            paragraphs.append(" ".join(kept))
    return "\n\n".join(paragraphs)


def prompt_fits(model: Model, letter: Letter, max_tokens: int) -> None:
    """Raise InputTooLargeError when the points and fields with room for max_tokens do not fit the context."""
    asked = max(model.prompt_tokens(prompts.message(list(letter.points), letter.sender, letter.recipient,
                                                    letter.purpose, letter.tone, variant))
                for variant in range(len(prompts.MESSAGE_ANGLES)))
    if asked + max_tokens + margin(model.n_ctx) > model.n_ctx:
        raise InputTooLargeError(
            f"the points and fields take {asked} tokens; with max_tokens {max_tokens} that is more than the model's "
            f"context of {model.n_ctx} tokens: send fewer or shorter points, or a smaller max_tokens"
        )


def write_messages(runner: TaskRunner, letter: Letter, *, count: int, max_tokens: int,
                   on_written: Callable[[Variant], None] | None = None) -> Messages:
    """`count` distinct messages stating the letter's points (fewer, with a warning, when the model cannot write
    that many distinct ones); on_written hears each message once it has passed its checks. The first drafts are
    written together (as many at once as the model has slots); one that repeats an earlier message is written once
    more, after them."""
    prompt_fits(runner.model, letter, max_tokens)
    source = SourceIndex.of("\n".join([*letter.points, letter.sender, letter.recipient, letter.purpose,
                                       letter.source]))
    made = Messages([])
    bodies: list[str] = []
    drafts = runner.map(lambda number: _write_body(runner, letter, source, number, max_tokens, runner.seed + number),
                        range(count), stage=WRITING_STAGE)
    for number, (body, checks) in enumerate(drafts):
        if body and is_near_duplicate(body, bodies, BUDGETS.message_duplicate_similarity):
            retry_seed = runner.seed + BUDGETS.message_retry_seed_offset + number
            body, checks = _write_body(runner, letter, source, number, max_tokens, retry_seed,
                                       temperature=max(runner.temperature, BUDGETS.candidate_temperature))
            if body and is_near_duplicate(body, bodies, BUDGETS.message_duplicate_similarity):
                body = ""
        if not body:
            made.dropped += checks.dropped  # what the check took out of a message that came to nothing
            continue
        bodies.append(body)
        made.facts += checks.facts
        made.rewritten += checks.rewritten
        made.dropped += checks.dropped
        covered, missing = coverage(body, letter.points)
        made.variants.append(Variant(subject_of(letter), _framed(body, letter), covered, missing))
        if on_written is not None:
            on_written(made.variants[-1])
    if len(made.variants) < count:
        made.warnings.append(f"asked for {count} messages, but only {len(made.variants)} distinct ones could be "
                             "written")
    if made.dropped:
        made.warnings.append(f"the fact check dropped {made.dropped} sentence(s) that stated names, numbers or "
                             "acronyms the points do not have")
    short = sum(1 for variant in made.variants if variant.missing)
    if short:
        made.warnings.append(f"{short} message(s) leave out some of the points (each message's `missing` lists them)")
    return made


def _write_body(runner: TaskRunner, letter: Letter, source: SourceIndex, variant: int, max_tokens: int, seed: int,
                temperature: float | None = None) -> tuple[str, Checked]:
    """One checked body, and what the check did; points it misses are asked for once more, a sentence each."""
    messages = prompts.message(list(letter.points), letter.sender, letter.recipient, letter.purpose, letter.tone,
                               variant)
    written = runner.prose(messages, max_tokens, temperature=temperature, seed=seed)
    checked = check_text(runner, body_of(written.text), source, rewrite=False)
    body = on_topic(checked.text, letter)
    _, missing = coverage(body, letter.points)
    added = []
    for index in missing:  # each point left out is asked for once more, on its own
        point = letter.points[index]
        room = min(max_tokens, 2 * runner.model.count_tokens(point) + BUDGETS.rewrite_extra_tokens)
        # A repair: no warmer than MESSAGE_REPAIR_TEMPERATURE, where the model keeps a point best.
        cool = min(runner.temperature if temperature is None else temperature, BUDGETS.message_repair_temperature)
        said = runner.prose(prompts.point_sentence(point, letter.tone), room, temperature=cool, seed=seed)
        for sentence in split_sentences(body_of(said.text)):
            # A small model runs on past the point (", which is scheduled at 2 PM"): its first clause may hold.
            candidates = dict.fromkeys((sentence, sentence.split(",")[0].rstrip(".") + "."))
            held = [candidate for candidate in candidates
                    if covers(candidate, point) and not source.unsupported(candidate)[1]]
            if held:
                added.append(held[0])
                checked.facts += len(source.unsupported(held[0])[0])
                break
    body = "\n\n".join(part for part in (body, " ".join(dict.fromkeys(added))) if part)
    return body, checked
