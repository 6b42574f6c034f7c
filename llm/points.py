"""Key points of any length of text: candidates per chunk, grounded in the text, deduplicated, ranked, cited."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from llm import prompts
from llm.budgets import BUDGETS
from llm.checkpoints import digest, remembered
from llm.chunking import Chunk, TextBlock, chunk_blocks
from llm.cleanup import content_words, copied_sentence, is_near_duplicate, parse_points, split_sentences, words
from llm.facts import Checked, SourceIndex, check_text
from llm.runner import TaskRunner
from llm.salience import Salience


@dataclass
class Point:
    """One key point and the pages it came from."""

    text: str
    pages: list[int] = field(default_factory=list)
    score: float = 0.0
    position: tuple[int, int] = (0, 0)
    support: int = 1


@dataclass
class KeyPoints:
    """Key points and how they were made."""

    points: list[Point]
    chunks: int
    warnings: list[str] = field(default_factory=list)
    checked: Checked | None = None  # what the fact check did


def grounding(point: str, source: str) -> float:
    """Share of the point's content words that the source text contains, 0 to 1."""
    point_words = set(content_words(point))
    if not point_words:
        return 0.0
    return len(point_words & set(content_words(source))) / len(point_words)


def _cited_pages(point: str, chunk: Chunk) -> list[int] | None:
    """The fewest pages of the chunk (at most max_cited_pages) that together support the point; None if no pages
    do."""
    if not chunk.page_texts:
        return []
    ranked = sorted(chunk.page_texts, key=lambda page: -grounding(point, chunk.page_texts[page]))
    chosen: list[int] = []
    for page in ranked[:BUDGETS.max_cited_pages]:
        chosen.append(page)
        if grounding(point, " ".join(chunk.page_texts[number] for number in chosen)) >= BUDGETS.min_grounding:
            return sorted(chosen)
    return None


def _is_heading(point: str, source: str) -> bool:
    """A point that only repeats a title or heading line of the source."""
    if point.rstrip().endswith((".", "!", "?", "。", "！", "？")):
        return False
    needle = " ".join(words(point))
    return any(" ".join(words(line)) == needle for line in source.splitlines())


def _candidates(runner: TaskRunner, chunk: Chunk, index: int, messages, max_tokens: int) -> list[Point]:
    completion = runner.complete(messages, max_tokens, BUDGETS.repeat_penalty)
    items = parse_points(completion.text)
    if completion.finish_reason == "length" and items:
        items = items[:-1]  # the last item was cut off mid-way
    found: list[Point] = []
    for order, item in enumerate(items):
        if _is_heading(item, chunk.text):
            continue
        score = grounding(item, chunk.text)
        pages = _cited_pages(item, chunk)
        # Mostly words the text (or no set of pages) does not contain: dropped.
        if score < BUDGETS.min_grounding or pages is None:
            continue
        found.append(Point(item, pages, score, (index, order)))
    return found


def _key_sentences(chunks: list[Chunk], salience: Salience) -> list[Point]:
    """Sentences of the text ranked by their salience (llm/salience.py), for when the model gave too few points."""
    scores = {sentence.text: sentence.score for sentence in salience.sentences}
    ranked: list[Point] = []
    for index, chunk in enumerate(chunks):
        paragraphs = [re.sub(r"\s+", " ", paragraph) for paragraph in chunk.text.split("\n\n")]
        sentences = [sentence for paragraph in paragraphs for sentence in split_sentences(paragraph)]
        for order, sentence in enumerate(sentences):
            score = scores.get(sentence, -1.0)
            if score < 0 or not sentence.endswith((".", "!", "?", "。", "！", "？")):
                continue  # too short or long to be a point, or boilerplate
            pages = _cited_pages(sentence, chunk)
            if pages is not None:
                ranked.append(Point(sentence, pages, score, (index, order + 1000)))
    ranked.sort(key=lambda point: -point.score)
    return ranked


def _add_distinct(kept: list[Point], candidates: list[Point]) -> None:
    for candidate in candidates:
        for existing in kept:
            if is_near_duplicate(candidate.text, [existing.text], threshold=BUDGETS.point_duplicate_similarity):
                existing.support += 1
                existing.pages = sorted(set(existing.pages) | set(candidate.pages))
                break
        else:
            kept.append(candidate)


def key_points(runner: TaskRunner, blocks: list[TextBlock], *, count: int, checkpoints=None) -> KeyPoints:
    """Exactly count distinct points when the text allows, each with the pages it came from."""
    model = runner.model
    warnings: list[str] = []
    ask = count + BUDGETS.extra_points_asked
    overhead = BUDGETS.points_reserve_overhead
    reserve = min(BUDGETS.tokens_per_point * ask + overhead, model.n_ctx // BUDGETS.answer_ctx_divisor)
    budget = model.n_ctx - model.prompt_tokens(prompts.points("", ask)) - reserve - runner.margin()
    chunks = chunk_blocks(blocks, model, budget)
    # A long document's points are spread over its chunks: each is asked for about twice its share.
    per_chunk = ask if len(chunks) == 1 else max(
        BUDGETS.min_points_per_chunk, min(ask, math.ceil(2 * count / len(chunks)) + 1)
    )
    per_chunk = min(per_chunk, max(1, (reserve - overhead) // BUDGETS.tokens_per_point))

    def find(numbered: tuple[int, Chunk]) -> list:
        index, chunk = numbered

        def ask_model() -> list:
            found = _candidates(runner, chunk, index, prompts.points(chunk.text, per_chunk), reserve)
            return [[point.text, point.pages, point.score, list(point.position)] for point in found]

        return remembered(checkpoints, f"points:{index}:{per_chunk}:{digest(chunk.text)}", ask_model)

    # Each chunk's candidates are found together (as many at once as the model runs), then kept in chunk order.
    kept: list[Point] = []
    for saved in runner.map(find, list(enumerate(chunks)), "finding key points", shared=True):
        _add_distinct(kept, [Point(text, pages, score, tuple(position)) for text, pages, score, position in saved])

    if len(kept) < count and len(chunks) == 1:
        chunk = chunks[0]
        # The "already listed" block costs context: drop it when it would not fit.
        messages = prompts.more_points(chunk.text, count - len(kept) + 1, [point.text for point in kept])
        if model.prompt_tokens(messages) + reserve + runner.margin() <= model.n_ctx:
            _add_distinct(kept, _candidates(runner, chunk, 0, messages, reserve))

    # Scored only when the model gave too few points or the check dropped some: most requests never need it.
    salience = functools.cache(lambda: Salience("\n\n".join(block.text for block in blocks)))
    if len(kept) < count:
        _add_distinct_limited(kept, _key_sentences(chunks, salience()), count)

    for point in kept:
        point.score *= 1 + 0.5 * (point.support - 1)
    runner.progress("checking facts", 0, 1)
    chosen, checked = _checked(runner, sorted(kept, key=lambda point: -point.score), blocks, count)
    if len(chosen) < count:  # points the check dropped: the text's own key sentences take their places
        _add_distinct_limited(chosen, [point for point in _key_sentences(chunks, salience())
                                       if point not in chosen], count)
    chosen.sort(key=lambda point: point.position)
    runner.progress("checking facts", 1, 1)
    if checked.rewritten or checked.dropped:
        warnings.append(
            f"the fact check rewrote {checked.rewritten} and dropped {checked.dropped} key point(s) that stated "
            "numbers, names or acronyms the document does not have"
        )
    if len(chosen) < count:
        warnings.append(f"asked for {count} key points, but the text gave only {len(chosen)} distinct ones")
    return KeyPoints(chosen, chunks=len(chunks), warnings=warnings, checked=checked)


def _checked(runner: TaskRunner, points: list[Point], blocks: list[TextBlock],
             count: int) -> tuple[list[Point], Checked]:
    """The first count points (best first) that pass the fact check: a near-copy of one sentence of the document
    becomes that sentence, verbatim; a point whose facts the document does not hold is rewritten once or dropped."""
    whole = "\n\n".join(block.text for block in blocks)
    source = SourceIndex.of(whole)
    totals = Checked("")
    kept: list[Point] = []
    for point in points:
        if len(kept) >= count:
            break
        totals.original += f"{point.text}\n\n"  # what the check examined, for measuring it
        quote = copied_sentence(point.text, source.texts, BUDGETS.verbatim_similarity)
        if quote is not None:
            point.text = quote
            totals.facts += len(source.unsupported(quote)[0])
            kept.append(point)
            continue
        checked = check_text(runner, point.text, source)
        if checked.rewritten and checked.text and grounding(checked.text, whole) < BUDGETS.min_grounding:
            # A rewrite that says something the document does not (mostly its own words): not a point of it.
            checked.rewritten, checked.dropped, checked.text = 0, checked.dropped + 1, ""
        totals.facts += checked.facts
        totals.rewritten += checked.rewritten
        totals.dropped += checked.dropped
        if checked.text:
            point.text = checked.text
            kept.append(point)
    return kept, totals


def _add_distinct_limited(kept: list[Point], candidates: list[Point], count: int) -> None:
    for candidate in candidates:
        if len(kept) >= count:
            return
        kept_texts = [point.text for point in kept]
        if not is_near_duplicate(candidate.text, kept_texts, threshold=BUDGETS.point_duplicate_similarity):
            candidate.score = 0.0  # model points rank first; key sentences fill the gaps
            kept.append(candidate)
