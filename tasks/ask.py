"""The ask task: a question answered from stored documents, with quotes that prove their pages.

How an answer is made, and why it can be trusted:
1. The documents' passages are searched (FTS5, BM25) for the question's terms. How much of the question the documents
   hold at all (its terms, weighted by rarity) decides whether it is answerable: below MIN_QUESTION_COVERAGE the
   answer is `answered: false`, whatever a model would say (a tiny model answers anything).
2. The model answers from the best passages. Each sentence of its answer is kept only if the passages hold most of
   its content words, and is cited with the source sentence that supports it best.
3. If nothing of the model's answer holds, the passages' sentences that match the question best answer instead.
4. Every quote is checked against its page's stored text; one that fails is repaired from the page or dropped.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from library.errors import EmptyCollectionError
from library.search import (
    Retrieved,
    best_sentence,
    page_sentences,
    question_terms,
    quote_on_page,
    retrieve,
    support,
)
from library.store import LibraryStore, Passage
from llm.answer import answer_question
from llm.budgets import BUDGETS
from llm.cleanup import split_sentences
from llm.prompts import NOT_IN_EXCERPTS
from llm.streamed import StreamedText
from settings import at_most_setting
from tasks.base import ModelAnswer, Task, TaskOptions, TaskWork, Usage, Warnings


class Turn(BaseModel):
    """One earlier turn of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1, json_schema_extra=at_most_setting("max_question_chars"))


class AskOptions(TaskOptions):
    """A question as its job keeps it: the documents are resolved (a collection named becomes its documents and
    instructions)."""

    question: str = Field(min_length=1, json_schema_extra=at_most_setting("max_question_chars"),
                          description="The question (at most MAX_QUESTION_CHARS characters).")
    document_ids: list[str] = Field(min_length=1, json_schema_extra=at_most_setting("max_ask_documents"),
                                    description="The documents to answer from (at most MAX_ASK_DOCUMENTS).")
    history: list[Turn] = Field(default_factory=list, max_length=100,
                                description="The conversation so far, oldest first, for follow-up questions.")
    instructions: str = Field("", max_length=4000, description="Standing instructions (a collection's).")


class Citation(BaseModel):
    """A verbatim quote of a stored page that supports the answer."""

    model_config = ConfigDict(extra="forbid")

    document_id: str
    page: int = Field(ge=1)
    quote: str = Field(description="A verbatim span of the page's stored text (whitespace-normalized).")


class AskResult(ModelAnswer):
    """An answer and the quotes that prove it."""

    answer: str = Field(description="The answer, or when the documents do not hold one, a plain statement of that.")
    answered: bool = Field(description="False when the documents do not support an answer.")
    citations: list[Citation] = Field(description="Quotes of the pages the answer rests on, each checked.")
    warnings: Warnings


def asked_documents(store: LibraryStore, library: str, document_ids: list[str] | None,
                    collection: str | None) -> tuple[list[str], str]:
    """The documents a question names (or its collection's, with the collection's instructions), each checked to
    be in the library; raises DocumentNotFoundError, CollectionNotFoundError or EmptyCollectionError."""
    instructions = ""
    if collection is not None:
        found = store.collection(library, collection)
        if not found.document_ids:
            raise EmptyCollectionError(f"the collection {collection!r} has no documents left to ask")
        document_ids, instructions = found.document_ids, found.instructions
    document_ids = list(dict.fromkeys(document_ids or []))
    store.require(library, document_ids)
    return document_ids, instructions


def _not_answered(retrieved: Retrieved) -> str:
    if retrieved.missing:
        named = ", ".join(f"“{term}”" for term in retrieved.missing[:5])
        return f"The documents do not answer this: they do not mention {named}."
    return "The documents do not answer this question."


def _without_markers(text: str) -> str:
    """The answer without the prompt's labels a model may copy ("Excerpts:", "[2]", "(Title, page 3)")."""
    text = re.sub(r"^\s*Excerpts?:\s*", "", text)
    text = re.sub(r"\s*\[\d+\]", "", text)
    return re.sub(r"\([^()]{0,200}, page \d+\)\s*", "", text).strip()


def _sentences_of(passages: list[Passage]) -> list[tuple[Passage, str]]:
    return [(passage, sentence) for passage in passages for sentence in page_sentences(passage.text)]


def _cite(claims: list[str], passages: list[Passage]) -> list[tuple[str, Citation]]:
    """Each claim that the passages support, with the source sentence that supports it best."""
    sources = _sentences_of(passages)
    everything = " ".join(passage.text for passage in passages)
    cited = []
    for claim in claims:
        if support(claim, everything) < BUDGETS.min_answer_support:
            continue
        quote, score = best_sentence(claim, [sentence for _, sentence in sources])
        if quote is None or score < BUDGETS.min_quote_support:
            continue
        passage = next(passage for passage, sentence in sources if sentence == quote)
        cited.append((claim, Citation(document_id=passage.document_id, page=passage.page, quote=quote)))
    return cited


def _extract(question: str, passages: list[Passage]) -> list[tuple[str, Citation]]:
    """The source sentences that match the question best, in the documents' order, as their own citations."""
    terms = " ".join(question_terms(question)) or question
    ranked = sorted(_sentences_of(passages), key=lambda item: -support(terms, item[1]))
    chosen = ranked[:BUDGETS.extractive_answer_sentences]
    chosen.sort(key=lambda item: (item[0].document_id, item[0].page, item[0].id))
    return [(sentence, Citation(document_id=passage.document_id, page=passage.page, quote=sentence))
            for passage, sentence in chosen]


def checked(citations: list[Citation], store: LibraryStore) -> tuple[list[Citation], int]:
    """The citations whose quote is on its page (one that is not is repaired from the page, or dropped), without
    repeats; and how many were repaired or dropped."""
    pages = store.page_texts((citation.document_id, citation.page) for citation in citations)
    kept: list[Citation] = []
    mended = 0
    for citation in citations:
        text = pages.get((citation.document_id, citation.page))
        if text is None:
            mended += 1
            continue
        if not quote_on_page(citation.quote, text):
            mended += 1
            quote, score = best_sentence(citation.quote, page_sentences(text))
            if quote is None or score < BUDGETS.min_quote_support:
                continue
            citation = citation.model_copy(update={"quote": quote})
        if citation not in kept:
            kept.append(citation)
    return kept, mended


def run(work: TaskWork, _input: object, options: AskOptions) -> AskResult:
    """Answer the question from the job's documents."""
    store = work.library
    work.progress("searching", 0, 1)
    context = " ".join(turn.content for turn in options.history if turn.role == "user")
    retrieved = retrieve(store, options.document_ids, options.question, context, BUDGETS.ask_passages)
    warnings: list[str] = []
    answered = bool(retrieved.passages) and retrieved.coverage >= BUDGETS.min_question_coverage
    cited: list[tuple[str, Citation]] = []
    if answered:
        titles = {document_id: store.get(work.library_name, document_id).title
                  for document_id in dict.fromkeys(passage.document_id for passage in retrieved.passages)}
        excerpts = [f"({titles[passage.document_id]}, page {passage.page}) {passage.text}"
                    for passage in retrieved.passages]
        history = [turn.model_dump() for turn in options.history]
        made = answer_question(work.runner, excerpts, options.question, history, options.instructions)
        used = retrieved.passages[:made.excerpts_used]
        claims = [sentence for sentence in split_sentences(_without_markers(made.text))
                  if NOT_IN_EXCERPTS not in sentence]
        cited = _cite(claims, used)
        if not cited:
            cited = _extract(options.question, used)
            if cited:
                warnings.append("the model's answer was not supported by the documents: the passages that match "
                                "the question best answer instead")
    citations, mended = checked([citation for _, citation in cited], store)
    if mended:
        warnings.append(f"{mended} quote(s) did not match their page and were repaired or dropped")
    if answered and not citations:
        answered = False
    answer = StreamedText(work.stream)  # the answer's sentences, each once its quote has been checked
    for sentence in [claim for claim, _ in cited] if answered else [_not_answered(retrieved)]:
        answer.add(sentence)
    return AskResult(
        answer=answer.text, answered=answered, citations=citations if answered else [],
        model=work.runner.model.name, usage=Usage(**work.runner.usage.as_dict()),
        elapsed_ms=work.elapsed_ms(), warnings=warnings,
    )


ASK = Task(name="ask", title="Ask", options=AskOptions, result=AskResult, run=run, read_input=lambda _stored: None)
