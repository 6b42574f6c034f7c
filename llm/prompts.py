"""Prompt texts for each task; the document comes first and the instruction last, which small models follow best."""

from __future__ import annotations

from dataclasses import dataclass

from llm.budgets import BUDGETS
from llm.model import Message

SYSTEM = (
    "You are a careful assistant that summarizes documents. Use only facts stated in the document. "
    "Write plain prose without headings or preambles."
)


@dataclass(frozen=True)
class LengthSpec:
    """How long a summary of a given length should be."""

    instruction: str  # what the prompt asks for
    max_tokens: int  # the token cap of the answer
    words: tuple[int, int]  # the words the answer should have (the README table); a longer one is cut at a sentence
    max_sentences: int = 0  # the most sentences the instruction allows (bounds a short input's summary)
    bounded: bool = False  # shortened because the input is short


LENGTHS = {
    "short": LengthSpec("in 2 to 3 sentences", 120, (30, 70), max_sentences=3),
    "medium": LengthSpec("in one paragraph of 4 to 6 sentences", 250, (70, 150), max_sentences=6),
    "long": LengthSpec("in 2 to 3 paragraphs that cover every main topic", 500, (150, 350), max_sentences=15),
}


def summary_length(length: str, input_tokens: int) -> LengthSpec:
    """The length asked of a summary of an input this many tokens long: as named, unless its cap is more than about
    a third of the input (plus room to finish one sentence); then fewer sentences are asked for, under a token cap
    of that bound plus one sentence, never more than the input itself."""
    spec = LENGTHS[length]
    bound = input_tokens // BUDGETS.summary_input_divisor
    cap = min(input_tokens, max(bound + BUDGETS.summary_tokens_per_sentence, BUDGETS.min_summary_tokens))
    if cap >= spec.max_tokens:
        return spec
    sentences = max(1, min(spec.max_sentences, bound // BUDGETS.summary_tokens_per_sentence))
    instruction = "in one sentence" if sentences == 1 else f"in at most {sentences} sentences"
    return LengthSpec(instruction, cap, spec.words, sentences, bounded=True)


def short_text_tokens(spec: LengthSpec) -> int:
    """Below this many tokens, a text's summary at this length is bounded by the text's size."""
    return (spec.max_tokens - BUDGETS.summary_tokens_per_sentence) * BUDGETS.summary_input_divisor


def lengths_table() -> str:
    """The summary lengths as a Markdown table, for the README (tests/test_readme.py keeps it current)."""
    rows = ["| `length` | asks for | words (a longer summary loses its last sentences) | token cap | on a short text |",
            "|---|---|---|---|---|"]
    for name, spec in LENGTHS.items():
        tokens = short_text_tokens(spec)
        rows.append(
            f"| `{name}` | {spec.instruction.removeprefix('in ')} | {spec.words[0]}–{spec.words[1]} words | "
            f"{spec.max_tokens} | below {tokens:,} tokens (about {round(tokens * 0.75, -1):,.0f} words): at most a "
            f"third of the text's tokens + {BUDGETS.summary_tokens_per_sentence}, at most {spec.max_sentences} "
            "sentences |"
        )
    return "\n".join(rows)


def _messages(user: str) -> list[Message]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def summary(text: str, length: LengthSpec) -> list[Message]:
    """Summarize a whole text at the requested length."""
    return _messages(f"{text}\n\nWrite a summary of the document above {length.instruction}.")


def section(text: str, words: int) -> list[Message]:
    """Summarize one part of a longer document (the map step)."""
    return _messages(
        f"{text}\n\nThe text above is one part of a longer document. Summarize it in at most {words} words. "
        "Keep names, numbers and the main facts. Write plain sentences in the text's own voice, not a list."
    )


def merge(summaries: list[str], instruction: str, facts: list[str] = ()) -> list[Message]:
    """Combine summaries of consecutive parts into one summary, keeping their facts as written."""
    joined = "\n\n".join(summaries)
    keep = f" Keep these facts exactly as written: {'; '.join(facts)}." if facts else ""
    return _messages(
        f"{joined}\n\nThe paragraphs above summarize consecutive parts of one document. "
        f"Combine them into one summary of the whole document {instruction}.{keep}"
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


ASK_SYSTEM = (
    "You answer questions about documents using only the numbered excerpts given. Quote or closely paraphrase the "
    "excerpts. If the excerpts do not contain the answer, reply exactly: The documents do not say."
)
NOT_IN_EXCERPTS = "The documents do not say."


def question(excerpts: list[str], question_text: str, history: list[Message], instructions: str) -> list[Message]:
    """Answer a question from numbered excerpts (each "(title, page n) text"), after the conversation so far."""
    numbered = "\n\n".join(f"[{number}] {excerpt}" for number, excerpt in enumerate(excerpts, start=1))
    standing = f"{instructions.strip()}\n\n" if instructions.strip() else ""
    return [
        {"role": "system", "content": ASK_SYSTEM},
        *history,
        {"role": "user", "content": f"Excerpts:\n\n{numbered}\n\n{standing}Question: {question_text.strip()}\n\n"
                                    "Answer in 1 to 3 sentences, using only the excerpts."},
    ]


def rewrite(sentence: str, passage: str) -> list[Message]:
    """Correct a sentence whose facts the document does not hold, from the passage it came from."""
    return _messages(
        f"{passage}\n\nSentence: {sentence}\n\nRewrite the sentence so that every number, name and fact in it is "
        "exactly as the text above states it. Write only the corrected sentence."
    )


MESSAGE_SYSTEM = (
    "You write short, clear emails in plain prose. Use only the facts given: never add a name, date, time, place "
    "or number that is not in them."
)
# What each variant of a message is asked to do differently, so that variants differ even at temperature 0.
MESSAGE_ANGLES = (
    "",
    " Open with the reason for writing.",
    " Start with what the reader must do.",
    " Keep every sentence short.",
    " Put the most urgent point first.",
    " End by thanking the reader.",
)
MESSAGE_TONES = {
    "formal": "polite and formal",
    "friendly": "warm and friendly",
    "brief": "direct and brief",
}


def message(points: list[str], sender: str, recipient: str, purpose: str, tone: str, variant: int) -> list[Message]:
    """Write the body of an email that states every point (a variant's angle makes it differ from the others)."""
    listed = "\n".join(f"- {point}" for point in points)
    who = "".join([f" from {sender}" if sender else "", f" to {recipient}" if recipient else "",
                   f" about {purpose}" if purpose else ""])
    angle = MESSAGE_ANGLES[variant % len(MESSAGE_ANGLES)]
    return [{"role": "system", "content": MESSAGE_SYSTEM}, {"role": "user", "content": (
        f"Points:\n{listed}\n\nWrite the body of a {MESSAGE_TONES[tone]} email{who} that states every point above, "
        f"in {len(points) + 1} to {len(points) + 3} sentences. Do not write a subject, greeting or signature."
        f"{angle}"
    )}]


def point_sentence(point: str, tone: str) -> list[Message]:
    """Say one point as a sentence of an email (what a message that left the point out is given). Asking to
    repeat it with a few words changed keeps its facts: on ACLSum train points the bundled model kept 28 of 40 this
    way at temperature 0, against 3 of 40 asked to "rewrite" it (bench/messages.py, RESULTS.md)."""
    return [{"role": "system", "content": MESSAGE_SYSTEM}, {"role": "user", "content": (
        f"{point}\n\nRepeat the sentence above, changing only a few words so that it reads well in a "
        f"{MESSAGE_TONES[tone].split(' and ')[-1]} email."
    )}]
