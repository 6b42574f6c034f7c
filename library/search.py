"""Finding passages for a question (full-text search over the asked documents: library/fulltext.py), weighing how
much of the question the documents hold at all (the evidence that decides whether a question is answered), and
checking quotes against their pages."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from library.paging import normalize_space
from library.store import LibraryStore, Passage
from llm.budgets import BUDGETS
from llm.cleanup import content_words, split_sentences, words

# Words every question about a document may use ("what problem does this paper address?"): they say what kind of
# answer is wanted, not what it is about, so they neither find passages nor count as evidence.
QUESTION_WORDS = frozenset(
    {
        "paper", "article", "document", "documents", "text", "author", "authors", "problem", "problems", "address",
        "addresses", "approach", "approaches", "result", "results", "method", "methods", "main", "describe",
        "describes", "explain", "explains", "tell", "say", "says", "said", "mean", "means", "according", "give",
        "work", "study", "propose", "proposed", "proposes", "use", "used", "find", "findings", "found", "show",
        "shows", "goal", "purpose", "question", "questions", "answer", "please", "something", "thing", "things",
    }
)
STEM_LENGTH = 6  # words that share their first letters count as one (approach/approaches/approached)
MIN_SENTENCE_WORDS = 4


def stem(word: str) -> str:
    """A crude stem: enough to match a word's inflections in evidence counts (FTS5 itself uses Porter)."""
    return word[:STEM_LENGTH]


def question_terms(text: str) -> list[str]:
    """The words of a question that say what it is about, in order, without repeats."""
    return list(dict.fromkeys(word for word in content_words(text) if word not in QUESTION_WORDS))


def search_words(text: str) -> list[str]:
    """The words of a library search, each once (a document must hold every one)."""
    return list(dict.fromkeys(words(text)))


@dataclass(frozen=True)
class Retrieved:
    """Passages found for a question, and how much of the question the documents hold."""

    passages: list[Passage]
    coverage: float  # share of the question's weighted terms found in the documents, 0 to 1
    terms: list[str]
    missing: list[str]  # question terms no passage of the documents has


def retrieve(store: LibraryStore, document_ids: list[str], question: str, context: str, limit: int) -> Retrieved:
    """The passages of the documents that best match the question (context: earlier turns, which help find
    passages but are not evidence), best first; with no term to search for, or no match, the documents'
    openings."""
    terms = question_terms(question)
    # A question of question words only ("what are the results?") is about the document as a whole: its opening
    # says that best. (Searching for those words instead scored lower on ACLSum train: bench/RESULTS.md.)
    searched = list(dict.fromkeys(terms + question_terms(context)))
    found = store.search(document_ids, searched, limit) if searched else []
    if not found:
        per_document = max(1, limit // max(1, len(document_ids)))
        found = [passage for document_id in document_ids for passage in store.opening(document_id, per_document)]
    if not terms:  # a question of question words only ("what is this about?"): the documents hold it
        return Retrieved(found[:limit], 1.0, [], [])
    total, counts = store.passage_counts(document_ids, terms)
    # Rare terms weigh more (inverse document frequency over the asked documents' passages); a term none of them
    # has weighs as much as the rarest possible one, so a question about something else is not "mostly covered".
    rarest = math.log(1 + total)
    weights = [math.log(1 + total / count) if count else rarest for count in counts]
    # A term counts as held where one of the best passages has it: an answer is in one place, while the words of
    # a question about something else are scattered over a long document.
    nearby = {stem(word) for passage in found[:BUDGETS.evidence_passages] for word in content_words(passage.text)}
    held = sum(weight for term, weight, count in zip(terms, weights, counts, strict=True)
               if count and stem(term) in nearby)
    coverage = held / sum(weights) if sum(weights) else 0.0
    missing = [term for term, count in zip(terms, counts, strict=True) if not count]
    return Retrieved(found[:limit], coverage, terms, missing)


# Quotes

def quote_on_page(quote: str, page_text: str) -> bool:
    """Whether the quote is a verbatim span of the page (whitespace-normalized)."""
    quote = normalize_space(quote)
    return bool(quote) and quote in normalize_space(page_text)


def page_sentences(page_text: str) -> list[str]:
    """The sentences of a page that can be quoted (each a verbatim span of it, whitespace-normalized)."""
    return [sentence for paragraph in re.split(r"\n\s*\n", page_text)
            for sentence in split_sentences(normalize_space(paragraph))
            if len(sentence.split()) >= MIN_SENTENCE_WORDS]


def support(claim: str, source: str) -> float:
    """Share of the claim's content words (stemmed) that the source has, 0 to 1."""
    claim_stems = {stem(word) for word in content_words(claim)}
    if not claim_stems:
        return 0.0
    return len(claim_stems & {stem(word) for word in content_words(source)}) / len(claim_stems)


def best_sentence(claim: str, sentences: list[str]) -> tuple[str | None, float]:
    """The sentence that supports the claim best, and how well."""
    best, score = None, 0.0
    for sentence in sentences:
        value = support(claim, sentence)
        if value > score:
            best, score = sentence, value
    return best, score
