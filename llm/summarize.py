"""Summaries of any length of text: one pass when it fits what the writer reads; else the writer reads its most
salient sentences (extract, then abstract), or, with SUMMARY_READ_TOKENS=0, map and merge levels. Several candidates
can be written; every summary is fact-checked against the whole text and cut to its length's word range."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from llm import prompts
from llm.budgets import BUDGETS
from llm.checkpoints import digest, remembered
from llm.chunking import Chunk, TextBlock, chunk_blocks, pack_texts
from llm.cleanup import CleanText, is_near_duplicate, split_sentences
from llm.errors import ModelUnavailableError
from llm.facts import Checked, SourceIndex, check_text, facts_to_keep
from llm.runner import TaskRunner
from llm.salience import Salience
from llm.streamed import StreamedText


@dataclass(frozen=True)
class SummaryPlan:
    """How summaries are made (the SUMMARY_READ_TOKENS and SUMMARY_CANDIDATES settings); the defaults are
    measured, and a bigger model may want others."""

    read_tokens: int = BUDGETS.summary_read_tokens
    """The most tokens of a text the summary's writer reads (never more than fit its context): a longer text is
    read through its most salient sentences, as many as fit; 0: read it all (one pass when it fits the context,
    else map and merge levels)."""
    candidates: int = BUDGETS.summary_candidates
    """Summaries written of the same input; the best by the document's own measures is kept."""


@dataclass
class _Reading:
    """The text being summarized, with what its checks compute from it, each once."""

    text: str

    @cached_property
    def salience(self) -> Salience:
        return Salience(self.text)

    @cached_property
    def source(self) -> SourceIndex:
        return SourceIndex.of(self.text)


@dataclass
class Summary:
    """A summary and how it was made."""

    summary: str
    chunks: int
    levels: int
    strategy: str
    warnings: list[str] = field(default_factory=list)
    checked: Checked | None = None  # what the fact check did


def _output_reserve(runner: TaskRunner, requested: int, warnings: list[str]) -> int:
    """Output tokens for the final summary, capped so that a useful input still fits the context."""
    cap = runner.model.n_ctx // BUDGETS.answer_ctx_divisor
    if requested > cap:
        warnings.append(
            f"the summary was limited to {cap} tokens (1/{BUDGETS.answer_ctx_divisor} of the model's "
            f"{runner.model.n_ctx}-token context)"
        )
        return cap
    return requested


def _section_reserve(n_ctx: int) -> int:
    """Output tokens for each part summary: small enough that several fit one merge prompt."""
    return max(BUDGETS.section_reserve_min,
               min(BUDGETS.section_reserve_max, n_ctx // BUDGETS.section_reserve_ctx_divisor))


def _extractive_fallback(text: str, runner: TaskRunner, max_tokens: int) -> str:
    """The opening sentences of the text, when the model gave nothing usable."""
    chosen: list[str] = []
    for sentence in split_sentences(" ".join(text.split())):
        if runner.model.count_tokens(" ".join([*chosen, sentence])) > max_tokens:
            break
        chosen.append(sentence)
    return " ".join(chosen) or runner.model.split_tokens(text, max_tokens)[0]


def check_context(model, most_points: int) -> None:
    """Raise ModelUnavailableError when N_CTX leaves too little room next to the prompts for real work (most_points:
    the largest count of key points a request may ask for)."""
    overhead = max(
        model.prompt_tokens(prompts.merge([], prompts.LENGTHS["long"].instruction)),
        model.prompt_tokens(prompts.points("", most_points + BUDGETS.extra_points_asked)),
    )
    if overhead > model.n_ctx // BUDGETS.min_prompt_ctx_divisor:
        raise ModelUnavailableError(
            f"N_CTX={model.n_ctx} is too small for this model's prompts ({overhead} tokens); raise N_CTX"
        )


def summarize(
    runner: TaskRunner, blocks: list[TextBlock], *, length: str, max_tokens: int | None = None,
    checkpoints=None, plan: SummaryPlan = SummaryPlan(), stream: Callable[[str], None] | None = None,
) -> Summary:
    """Summarize the blocks at the requested length (never longer than about a third of the text itself),
    within the model's context on every call; `stream` hears the summary a sentence at a time, each once it has
    passed the fact check."""
    model = runner.model
    warnings: list[str] = []
    full_text = "\n\n".join(block.text for block in blocks)
    reading = _Reading(full_text)
    input_tokens = model.count_tokens(full_text)
    spec = prompts.summary_length(length, input_tokens)
    requested = max_tokens or spec.max_tokens
    if spec.bounded:  # the bound holds against a larger max_tokens too; a smaller one still wins
        requested = min(requested, spec.max_tokens)
    final_reserve = _output_reserve(runner, requested, warnings)
    word_range = _word_range(spec, requested)
    margin = runner.margin()
    final_overhead = model.prompt_tokens(prompts.summary("", spec))
    single_budget = model.n_ctx - final_overhead - final_reserve - margin

    read_budget = min(plan.read_tokens, single_budget) if plan.read_tokens else single_budget
    if input_tokens <= read_budget or plan.read_tokens:
        reads, strategy = full_text, "single"
        if input_tokens > read_budget:
            # Extract, then abstract: the writer reads the document's most salient sentences, in its order.
            if read_budget < BUDGETS.min_read_tokens:
                raise ModelUnavailableError(
                    f"N_CTX={model.n_ctx} leaves too little room next to this model's prompts; raise N_CTX"
                )
            # A text with no sentence to choose (a table of numbers, one endless line) is read from its opening.
            reads = (reading.salience.extract(read_budget, model.count_tokens)
                     or model.split_tokens(full_text, read_budget)[0])
            strategy = "extract"
        runner.progress("summarizing", 0, 1)
        summary, alternatives = _final(runner, prompts.summary(reads, spec), final_reserve, full_text, warnings,
                                       spec.bounded, plan.candidates, word_range, reading)
        runner.progress("summarizing", 1, 1)
        checked = _checked(runner, summary, reading, warnings, final_reserve, alternatives, word_range[1], stream)
        return Summary(checked.text, chunks=1, levels=1, strategy=strategy, warnings=warnings, checked=checked)

    separator = BUDGETS.separator_tokens
    final_input_budget = model.n_ctx - final_overhead - final_reserve - margin - separator
    section_reserve = _section_reserve(model.n_ctx)
    while True:  # part summaries must fit, two at a time, into a merge prompt and into the final prompt
        section_words = max(BUDGETS.min_section_words, int(section_reserve * BUDGETS.section_words_per_token))
        instruction = f"in at most {section_words} words"
        merge_budget = (model.n_ctx - model.prompt_tokens(prompts.merge([], instruction)) - _fact_room(model)
                        - section_reserve - margin)
        if merge_budget >= 2 * (section_reserve + separator) and final_input_budget >= section_reserve + separator:
            break
        if section_reserve <= BUDGETS.section_reserve_floor:
            raise ModelUnavailableError(
                f"N_CTX={model.n_ctx} leaves too little room next to this model's prompts; raise N_CTX"
            )
        section_reserve = int(section_reserve * BUDGETS.section_reserve_shrink)
    chunk_budget = model.n_ctx - model.prompt_tokens(prompts.section("", section_words)) - section_reserve - margin
    chunks = chunk_blocks(blocks, model, chunk_budget)
    def summarize_part(numbered: tuple[int, Chunk]) -> dict:
        index, chunk = numbered

        def write() -> dict:
            # Checked against its own part before anything builds on it (numbers copied back, the rest dropped):
            # a fact invented here would otherwise be carried up every level.
            text = runner.prose(prompts.section(chunk.text, section_words), section_reserve).text
            text = check_text(runner, text, SourceIndex.of(chunk.text), rewrite=False).text
            return {"text": text or _extractive_fallback(chunk.text, runner, section_reserve), "stand_in": not text}

        return remembered(checkpoints, f"part:{index}:{digest(chunk.text)}", write)

    # The parts do not depend on each other: they are written together, as many at once as the model runs (and,
    # on several machines, by every free worker).
    parts = runner.map(summarize_part, list(enumerate(chunks)), "summarizing parts", shared=True)
    stand_ins = sum(part["stand_in"] for part in parts)
    summaries = [part["text"] for part in parts]

    # The final writer reads the document's own opening and closing words (where most documents say what
    # they are about and what they conclude) around the merged summaries of all parts.
    summaries_budget = max(int(final_input_budget * BUDGETS.final_summaries_share), section_reserve + separator)
    room = final_input_budget - summaries_budget - separator
    with_edges = room > BUDGETS.min_opening_room
    opening = model.split_tokens(chunks[0].text, int(room * BUDGETS.final_opening_share))[0] if with_edges else ""
    closing = _closing(model, chunks[-1].text, room - model.count_tokens(opening)) if with_edges else ""
    levels = 1
    while sum(model.count_tokens(text) + 2 for text in summaries) > summaries_budget:
        levels += 1
        if levels > BUDGETS.max_merge_levels:
            raise RuntimeError("hierarchical merge did not converge")  # cannot happen with the budgets above
        groups = pack_texts(summaries, model.count_tokens, merge_budget)

        def merge_group(numbered: tuple[int, list[str]], levels: int = levels) -> dict:
            index, group = numbered
            if len(group) == 1 and model.count_tokens(group[0]) <= section_reserve:
                return {"text": group[0], "stand_in": False}

            def write() -> dict:
                facts = _facts_that_fit(model, group)
                text = runner.prose(prompts.merge(group, instruction, facts), section_reserve).text
                text = check_text(runner, text, reading.source, rewrite=False).text
                joined = "\n\n".join(group)
                return {"text": text or _extractive_fallback(joined, runner, section_reserve), "stand_in": not text}

            return remembered(checkpoints, f"merge:{levels}:{index}:{digest(chr(0).join(group))}", write)

        parts = runner.map(merge_group, list(enumerate(groups)), f"merging level {levels}", shared=True)
        stand_ins += sum(part["stand_in"] for part in parts)
        merged = [part["text"] for part in parts]
        summaries = merged
    if stand_ins:
        warnings.append(
            f"the model gave no usable summary for {stand_ins} part(s); their opening sentences were used instead"
        )

    levels += 1
    runner.progress("writing final summary", 0, 1)
    condensed = "\n\n".join(part for part in (opening, *summaries, closing) if part.strip())
    summary, alternatives = _final(runner, prompts.summary(condensed, spec), final_reserve, "\n\n".join(summaries),
                                   warnings, spec.bounded, plan.candidates, word_range, reading)
    runner.progress("writing final summary", 1, 1)
    checked = _checked(runner, summary, reading, warnings, final_reserve, alternatives, word_range[1], stream)
    return Summary(checked.text, chunks=len(chunks), levels=levels, strategy="hierarchical", warnings=warnings,
                   checked=checked)


def _facts_that_fit(model, texts: list[str]) -> list[str]:
    """The facts of a merge's inputs that its prompt lists, as many as fit its room for them."""
    facts = facts_to_keep(texts, BUDGETS.merge_facts)
    while facts and model.count_tokens("; ".join(facts)) > _fact_room(model):
        facts.pop()
    return facts


def _fact_room(model) -> int:
    return min(BUDGETS.merge_fact_tokens, model.n_ctx // BUDGETS.merge_fact_ctx_divisor)


def _checked(runner: TaskRunner, summary: str, reading: _Reading, warnings: list[str], reserve: int,
             alternatives: list[str], most_words: int, stream: Callable[[str], None] | None) -> Checked:
    """The summary after the fact check, with a warning when sentences had to be rewritten or dropped. Sentences
    dropped are replaced, as far as the length allows, by sentences of the other candidates whose facts the text
    holds and that say something new; when nothing the model wrote holds, the text's opening sentences (which claim
    nothing it does not say) stand in."""
    runner.progress("checking facts", 0, 1)
    source = reading.source
    out = StreamedText(stream)
    checked = check_text(runner, summary, source, out=out)
    if checked.dropped and alternatives:
        added, added_facts = _refills(checked.text, checked.dropped, alternatives, reading, most_words)
        for sentence in added:
            out.add(sentence)  # at the end of the last paragraph
        checked.text = out.text
        checked.facts += added_facts
    runner.progress("checking facts", 1, 1)
    if not checked.text and checked.dropped:
        out.add_paragraph(_extractive_fallback(reading.text, runner, reserve))
        checked.text = out.text
        checked.facts = len(source.unsupported(checked.text)[0])
        warnings.append("every sentence the model wrote stated numbers, names or acronyms the document does not "
                        "have, so the opening sentences of the text are shown instead")
    if checked.rewritten or checked.dropped:
        warnings.append(
            f"the fact check rewrote {checked.rewritten} and dropped {checked.dropped} sentence(s) that stated "
            "numbers, names or acronyms the document does not have"
        )
    return checked


def _refills(text: str, wanted: int, alternatives: list[str], reading: _Reading, most_words: int
             ) -> tuple[list[str], int]:
    """Up to `wanted` sentences of the alternatives to add at the text's end: each one whose facts the text read
    holds, new (not a near-duplicate of a sentence kept), within most_words in all and never making the summary
    mostly copied; and the facts they add."""
    source, salience = reading.source, reading.salience
    kept = [sentence for paragraph in re.split(r"\n\s*\n", text.strip()) for sentence in split_sentences(paragraph)]
    added: list[str] = []
    facts = 0
    copies = sum(salience.copied(sentence) for sentence in kept)
    for alternative in alternatives:
        for sentence in split_sentences(" ".join(alternative.split())):
            if len(added) >= wanted:
                break
            found, unsupported = source.unsupported(sentence)
            if unsupported or is_near_duplicate(sentence, kept) or len(
                    " ".join([*kept, sentence]).split()) > most_words:
                continue
            if salience.copied(sentence) and (copies + 1) / (len(kept) + 1) > BUDGETS.max_copied_share:
                continue  # a summary stays the model's own words
            copies += salience.copied(sentence)
            added.append(sentence)
            kept.append(sentence)
            facts += len(found)
    return added, facts


def _closing(model, text: str, max_tokens: int) -> str:
    """The last words of a text, at most max_tokens, starting at a paragraph or sentence when possible."""
    if max_tokens <= 0:
        return ""
    low, high = 0, len(text)
    while low < high:  # the longest suffix that fits
        middle = (low + high) // 2
        if model.count_tokens(text[middle:]) <= max_tokens:
            high = middle
        else:
            low = middle + 1
    tail = text[low:]
    for boundary in ("\n\n", ". "):
        position = tail.find(boundary)
        if 0 <= position < len(tail) // 2:
            return tail[position + len(boundary):].strip()
    return tail.strip()


def _final(runner: TaskRunner, messages, reserve: int, source_text: str, warnings: list[str], bounded: bool,
           candidates: int, word_range: tuple[int, int], reading: _Reading) -> tuple[str, list[str]]:
    """The final summary: the best of `candidates` written from the same prompt, by the document's own measures
    (source_text stands in when the model gives nothing; candidates are scored on the text being summarized),
    its last sentences left out while it has more words than its range allows; and the other candidates, best
    first."""
    cleaned, *others = _ranked_candidates(runner, messages, reserve, candidates, reading, word_range)
    alternatives = [other.text for other in others if other.text and not other.degenerate]
    if cleaned.text:
        if cleaned.cut:
            warnings.append(
                f"the summary reached its limit of {reserve} tokens, about 1/{BUDGETS.summary_input_divisor} of "
                "this short text"
                if bounded else
                f"the summary reached its limit of {reserve} tokens; raise max_tokens or choose a longer length "
                "if it ends too early"
            )
        return _at_most_words(cleaned.text, word_range[1]), alternatives
    warnings.append("the model gave no usable summary, so the opening sentences of the text are shown instead")
    return _extractive_fallback(source_text, runner, reserve), []


def _at_most_words(text: str, most_words: int) -> str:
    """The text without its last sentences while it has more than most_words words (one sentence always stays)."""
    paragraphs = [split_sentences(paragraph) for paragraph in re.split(r"\n\s*\n", text.strip())]
    paragraphs = [sentences for sentences in paragraphs if sentences]
    while sum(len(sentence.split()) for sentences in paragraphs for sentence in sentences) > most_words:
        if len(paragraphs) == 1 and len(paragraphs[0]) == 1:
            break
        paragraphs[-1].pop()
        if not paragraphs[-1]:
            paragraphs.pop()
    return "\n\n".join(" ".join(sentences) for sentences in paragraphs)


def _word_range(spec: prompts.LengthSpec, requested_tokens: int) -> tuple[int, int]:
    """The words a summary of this length should have; a short text's summary (bounded) has no lower bound, and a
    max_tokens above the length's cap raises the upper bound in proportion (a longer summary was asked for)."""
    low, high = spec.words
    if requested_tokens > spec.max_tokens:
        high = high * requested_tokens // spec.max_tokens
    return (0 if spec.bounded else low, high)


def _ranked_candidates(runner: TaskRunner, messages, reserve: int, candidates: int, reading: _Reading,
                       word_range: tuple[int, int]) -> list[CleanText]:
    """The first candidate at the task's temperature, the others sampled, best first; the best is, in order: not
    empty or degenerate, not mostly copied, within the word range once the sentences the fact check would drop are
    left out (and a long one cut to the range), then the one whose facts the document holds best and whose words
    cover its salient content most."""
    first = runner.prose(messages, reserve)
    if candidates <= 1:
        return [first]
    salience, source = reading.salience, reading.source
    others = runner.map(
        lambda number: runner.prose(messages, reserve, temperature=BUDGETS.candidate_temperature,
                                    seed=runner.seed + number if runner.seed >= 0 else runner.seed),  # -1: random
        range(1, candidates),
    )
    written = [first, *others]

    def rank(cleaned) -> tuple:
        if not cleaned.text or cleaned.degenerate:
            return (False, False, False, 0.0)
        sentences = split_sentences(" ".join(cleaned.text.split()))
        checks = [source.unsupported(sentence) for sentence in sentences]  # (facts, those the text lacks)
        total = sum(len(found) for found, _ in checks)
        held = total - sum(len(lacking) for _, lacking in checks)
        holding = [sentence for sentence, (_, lacking) in zip(sentences, checks, strict=True) if not lacking]
        copied = salience.copied_share(cleaned.text) > BUDGETS.max_copied_share
        fits = word_range[0] <= len(_at_most_words(" ".join(holding), word_range[1]).split()) <= word_range[1]
        return (True, not copied, fits, salience.coverage(cleaned.text) * (held + 1) / (total + 1))

    return sorted(written, key=rank, reverse=True)
