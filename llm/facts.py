"""The fact check: every number, name and acronym a model writes is looked up in the document it read.

What is checked (the README says the same):
- numbers (with a `%` or "percent", thousands separators and decimals normalized: "1,200" = "1200", "5 %" = "5%";
  "the 1870s" is the number 1870): a number counts as supported only where one sentence of the document holds it
  together with the word it counts (the first content word after it: "14 hospitals" is not "14 months"), or, when
  nothing follows it, with the content word before it (its subject); a year, with one of the content words around
  it; and a count keeps its subject: where a word of its clause belongs, in the document, only to other counts of
  the same kind (in the same sentence, or as a word the document uses at most twice), it is given to the wrong
  thing ("The Leeds site employs 610 people" where the document says "The Leeds site employs 240 people, while
  the Bristol plant employs 610");
- names: runs of capitalized words ("Marie Le Goff", "Port Aven"; a sentence's first word only when the document
  never writes it in lower case): the run must appear in the document as written;
- acronyms (two or more capitals, digits and hyphens: "NER", "COVID-19"): found in the document, any case.
Spelled-out numbers, dates written as words and who-did-what without a number ("Chief executive Clara Osei" where
Clara Osei founded the company) are not checked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from llm.cleanup import content_words, split_sentences, words
from llm.streamed import StreamedText

STEM_LENGTH = 6  # words sharing their first letters count as one (month/months, hospital/hospitals)
RARE_SENTENCES = 2  # a word in at most this many sentences of the document names one thing (a site, a language)
_CLAUSE_BREAK = re.compile(r"[,;:]\s+|\s+(?:and|while|whereas|but|against|versus|vs\.)\s+")
_NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:[,\u00a0\u202f\u2009]\d{3})+|\d+)(?:\.(\d+))?(s\b)?(\s?(?:%|percent\b|per cent\b))?"
)
_YEAR = re.compile(r"1[0-9]{3}|20[0-9]{2}")
_ACRONYM = re.compile(r"(?<![\w-])[A-Z][A-Z0-9]*[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*(?![\w-])")
_CAPITALIZED = re.compile(r"[A-Z][\w'’-]*")
# Words that start sentences and are not names, even when the document never writes them in lower case.
_STARTERS = frozenset({
    "overall", "however", "finally", "first", "second", "third", "then", "also", "moreover", "furthermore",
    "together", "today", "later", "after", "before", "since", "while", "although", "because", "during", "despite",
    "here", "there", "thus", "therefore", "instead", "meanwhile", "both", "each", "many", "most", "several", "some",
    "one", "two", "three", "it", "its", "this", "these", "those", "the", "a", "an", "in", "on", "at", "by", "for",
    "from", "with", "as", "of", "to", "and", "but", "or", "they", "their", "he", "she", "his", "her", "we", "our",
    "you", "your", "i", "such", "other", "all", "no", "not", "yes", "what", "when", "where", "which", "who", "how",
    "why", "if", "so", "yet", "still", "only", "even", "more", "less", "new", "old", "key", "main", "summary",
})


def _stem(word: str) -> str:
    return word[:STEM_LENGTH]


def _normalize(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class Fact:
    """One checkable fact of a sentence: a number (with the words it must keep), a name or an acronym."""

    kind: Literal["number", "name", "acronym"]
    text: str  # as written in the sentence
    key: str  # as compared: a number's normalized value, a name as written, an acronym in upper case
    keeps: tuple[str, ...] = ()  # a number's word (stems) that a supporting sentence must hold too
    any_of: bool = False  # a year: one of the words around it is enough
    near: tuple[str, ...] = ()  # a count's neighbours (stems): the words nearer to it than to any other count


def _number_key(whole: str, decimals: str | None, percent: str | None) -> str:
    value = re.sub(r"[,\u00a0\u202f\u2009]", "", whole)
    if decimals and decimals.strip("0"):
        value += "." + decimals.rstrip("0")
    return value + ("%" if percent else "")


def _near_word(text: str, after: bool) -> str | None:
    """The first content word after (or last before) a number, within a few words of it."""
    found = content_words(text)
    if after:
        # Only what directly follows counts as its unit: "14 hospitals", "14-month", "5 % of the patients".
        head = words(text)[:3]
        return next((word for word in head if word in found and not word.isdigit()), None)
    tail = words(text)[-3:]
    return next((word for word in reversed(tail) if word in found and not word.isdigit()), None)


def _is_year(match: re.Match, key: str) -> bool:
    """A year is four plain digits ("1870", "the 1870s"), never "1,900" or "1900.5" or "1900%"."""
    return bool(_YEAR.fullmatch(key)) and match.group(1).isdigit() and not match.group(2) and not match.group(4)


def _counts(sentence: str) -> list[tuple[re.Match, str]]:
    """The numbers of a sentence that count something (not years), with their keys."""
    found = []
    for match in _NUMBER.finditer(sentence):
        key = _number_key(match.group(1), match.group(2), match.group(4))
        if not _is_year(match, key):
            found.append((match, key))
    return found


def _clauses(sentence: str) -> list[str]:
    """A sentence cut where it turns to another count ("240 people, while the Bristol plant employs 610"; "by 5.1
    days with veratinib and by 2.3 days with placebo"): at commas, semicolons and joining words. A piece without a
    count joins the next one (the last such piece, the one before), so each piece holds one count and its words."""
    pieces = [piece for piece in _CLAUSE_BREAK.split(sentence) if piece and piece.strip()]
    clauses: list[str] = []
    waiting = ""
    for piece in pieces:
        if not _counts(piece):
            waiting += " " + piece
            continue
        clauses.append(waiting + " " + piece)
        waiting = ""
    if waiting:
        if clauses:
            clauses[-1] += " " + waiting
        else:
            clauses.append(waiting)
    return clauses


def _neighbours(sentence: str) -> list[tuple[str, set[str]]]:
    """Each count of a (normalized) sentence with the stems of the content words of its clause. A clause with no
    words of its own before its count shares the sentence's subject ("Migraine days fell by 5.1 days with
    veratinib and by 2.3 days with placebo": both counts are of migraine days)."""
    found = []
    subject: set[str] = set()
    for number, clause in enumerate(_clauses(sentence)):
        counts = _counts(clause)
        if not counts:
            continue  # a sentence without counts is one clause
        stems = {_stem(word) for word in content_words(clause) if not word.isdigit()}
        before = {_stem(word) for word in content_words(clause[:counts[0][0].start()]) if not word.isdigit()}
        if number == 0:
            subject = before
        elif not before:
            stems |= subject
        found += [(key, stems) for _, key in counts]
    return found


def facts_of(sentence: str) -> list[Fact]:
    """The numbers, names and acronyms of a sentence."""
    sentence = _normalize(sentence)
    facts: list[Fact] = []
    near = [stems for _, stems in _neighbours(sentence)]
    count_number = 0
    for match in _NUMBER.finditer(sentence):
        key = _number_key(match.group(1), match.group(2), match.group(4))
        if _is_year(match, key):
            # A year counts nothing: it keeps its sentence instead (any of the words around it).
            around = [word for word in content_words(sentence[:match.start()])[-3:]
                      + content_words(sentence[match.end():])[:3] if not word.isdigit()]
            facts.append(Fact("number", match.group(0).strip(), key, tuple(_stem(word) for word in around), True))
            continue
        unit = _near_word(sentence[match.end():], after=True)
        subject = None if unit else _near_word(sentence[:match.start()], after=False)
        keeps = tuple(_stem(word) for word in (unit or subject,) if word)
        facts.append(Fact("number", match.group(0).strip(), key, keeps, near=tuple(sorted(near[count_number]))))
        count_number += 1
    acronyms = {match.group(0) for match in _ACRONYM.finditer(sentence) if not match.group(0).isdigit()}
    facts += [Fact("acronym", acronym, acronym.upper()) for acronym in sorted(acronyms)]
    facts += [Fact("name", name, name) for name in _names(sentence, acronyms)]
    return facts


def _names(sentence: str, acronyms: set[str]) -> list[str]:
    """Runs of capitalized words; the sentence's first word only when it is part of a longer run or not a
    common sentence starter (the document check decides the rest)."""
    tokens = list(re.finditer(r"\S+", sentence))
    runs: list[list[str]] = []
    current: list[str] = []
    for index, token in enumerate(tokens):
        word = token.group(0).strip("\"'“”‘’()[],;:.!?")
        capitalized = bool(_CAPITALIZED.fullmatch(word)) and word not in acronyms and not word.isupper()
        first = index == 0
        if capitalized and not (first and word.lower() in _STARTERS):
            current.append(word)
        elif current:
            runs.append(current)
            current = []
        if token.group(0)[-1:] in ",;:.!?)" and current:  # a run never crosses punctuation
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return list(dict.fromkeys(" ".join(run) for run in runs))


@dataclass
class SourceIndex:
    """A document prepared for the check: its sentences' numbers and word stems, and its text as written."""

    text: str
    sentences: list[tuple[set[str], set[str]]] = field(default_factory=list)  # (number keys, word stems)
    texts: list[str] = field(default_factory=list)  # the same sentences as written
    lower_stems: set[str] = field(default_factory=set)  # stems of the words the document writes in lower case
    neighbours: dict[str, set[str]] = field(default_factory=dict)  # stem -> keys of counts whose clause it is in
    clauses: list[list[tuple[str, set[str]]]] = field(default_factory=list)  # each sentence's counts and clauses
    sentence_counts: dict[str, int] = field(default_factory=dict)  # stem -> sentences of the document holding it

    @classmethod
    def of(cls, text: str) -> SourceIndex:
        normalized = _normalize(text)
        index = cls(normalized, lower_stems={_stem(word) for word in re.findall(r"\b[a-z][\w'-]*", normalized)})
        # Sentences end at their punctuation, not at paragraph breaks: a PDF's line of a table or chart without a
        # full stop runs on into the next, as a model reading it would run them on.
        for sentence in split_sentences(normalized):
            keys = set()
            for match in _NUMBER.finditer(sentence):
                key = _number_key(match.group(1), match.group(2), match.group(4))
                keys |= {key, key.rstrip("%")}  # "5%" in the text also supports a bare "5"
            index.sentences.append((keys, {_stem(word) for word in words(sentence)}))
            index.texts.append(sentence)
            for stem in {_stem(word) for word in words(sentence)}:
                index.sentence_counts[stem] = index.sentence_counts.get(stem, 0) + 1
            clauses = _neighbours(sentence)
            index.clauses.append(clauses)
            for key, stems in clauses:
                for stem in stems:
                    index.neighbours.setdefault(stem, set()).add(key)
        return index

    def supports(self, fact: Fact) -> bool:
        """Whether the document holds the fact (a number together with the word it keeps)."""
        if fact.kind == "number":
            held = any if fact.any_of else all
            holding = [number for number, (keys, stems) in enumerate(self.sentences)
                       if fact.key in keys and (not fact.keeps or held(stem in stems for stem in fact.keeps))]
            return bool(holding) and not self._given_to_another(fact, holding)
        if fact.kind == "acronym":
            return re.search(rf"(?<![\w-]){re.escape(fact.key)}(?![\w-])", self.text, re.IGNORECASE) is not None
        if " " not in fact.text and _stem(fact.text.lower()) in self.lower_stems:
            return True  # a sentence's first word that the document has in lower case ("Patients"): not a name
        return re.search(rf"(?<!\w){re.escape(fact.key)}(?!\w)", self.text) is not None

    def _given_to_another(self, fact: Fact, holding: list[int]) -> bool:
        """Whether a count is given to the wrong subject: a word of its clause in the output belongs, in the
        document, to another count of the same kind (a percentage to percentages) and never to this one, either in
        the sentence holding this one that matches the output best ("The Leeds site employs 610 people" where the
        document says "The Leeds site employs 240 people, while the Bristol plant employs 610") or as a word the
        document uses once or twice ("An Estonian model reaches 87.4 LAS" where 83.9 is the Estonian model's)."""
        percent = fact.key.endswith("%")
        near = set(fact.near)
        best = max(holding, key=lambda number: len(near & self.sentences[number][1]))
        own = set().union(*(stems for key, stems in self.clauses[best] if key == fact.key))
        contrast = set().union(*(stems for key, stems in self.clauses[best]
                                 if key != fact.key and key.endswith("%") == percent)) - own
        for stem in fact.near:
            beside = self.neighbours.get(stem, set())
            if fact.key in beside or not any(other.endswith("%") == percent for other in beside):
                continue
            if stem in contrast or self.sentence_counts.get(stem, 0) <= RARE_SENTENCES:
                return True
        return False

    def unsupported(self, sentence: str) -> tuple[list[Fact], list[Fact]]:
        """A sentence's facts, and those the document does not hold."""
        found = facts_of(sentence)
        return found, [fact for fact in found if not self.supports(fact)]

    def repair_numbers(self, sentence: str, unsupported: list[Fact]) -> str | None:
        """The sentence with each wrong number replaced by the one its best-matching source sentence has there (a
        changed year or count copied back), when that is unambiguous and leaves nothing unsupported; else None."""
        if any(fact.kind != "number" for fact in unsupported):
            return None
        flat = self.texts
        wanted = {_stem(word) for word in content_words(sentence) if not word.isdigit()}
        scores = [len(wanted & {_stem(word) for word in content_words(text)}) for text in flat]
        if not scores or max(scores) == 0:
            return None
        source_sentence = flat[max(range(len(flat)), key=scores.__getitem__)]
        repaired = sentence
        present = {fact.key for fact in facts_of(sentence) if fact.kind == "number"}
        for fact in unsupported:
            shape = bool(_YEAR.fullmatch(fact.key)), fact.key.endswith("%")
            candidates = [found for found in facts_of(source_sentence) if found.kind == "number"
                          and found.key not in present and (bool(_YEAR.fullmatch(found.key)), found.key.endswith("%"))
                          == shape]
            if len(candidates) != 1 or fact.text not in repaired:
                return None
            repaired = repaired.replace(fact.text, candidates[0].text, 1)
        return repaired if not self.unsupported(repaired)[1] else None

    def best_passage(self, sentence: str, around: int = 1) -> str:
        """The document's sentence that shares most words with this one, with its neighbours: what a rewrite
        reads."""
        flat = self.texts
        wanted = {_stem(word) for word in content_words(sentence)}
        scores = [len(wanted & {_stem(word) for word in content_words(candidate)}) for candidate in flat]
        if not scores:
            return ""
        best = max(range(len(flat)), key=scores.__getitem__)
        return " ".join(flat[max(0, best - around): best + around + 1])


@dataclass
class Checked:
    """A text after the check: its sentences that hold (some rewritten), and what was done."""

    text: str
    facts: int = 0  # facts checked in the sentences kept
    rewritten: int = 0
    dropped: int = 0
    original: str = ""  # the text before the check (for measuring what the check changed)

    def counts(self) -> dict[str, int]:
        """What the answer's `checked` says."""
        return {"facts": self.facts, "rewritten": self.rewritten, "dropped": self.dropped}


def check_text(runner, text: str, source: SourceIndex, *, rewrite: bool = True,
               out: StreamedText | None = None) -> Checked:
    """Every sentence of a generated text whose facts the document does not hold is rewritten once from the
    passage it most likely came from (when rewrite; a wrong number copied back from its source sentence needs no
    model call and is always tried), and dropped if it still fails the check; it is never shown. Each sentence
    that holds is added to `out` as soon as it has passed (streamed to whoever follows the job)."""
    from llm import prompts  # prompts import nothing from here; imported late to keep this module model-free
    from llm.budgets import BUDGETS

    checked = Checked("", original=text)
    out = out if out is not None else StreamedText()
    for paragraph in re.split(r"\n\s*\n", text):
        out.end_paragraph()
        for sentence in split_sentences(paragraph):
            facts, unsupported = source.unsupported(sentence)
            if unsupported:
                repaired = source.repair_numbers(sentence, unsupported)
                if repaired is not None:
                    checked.rewritten += 1
                    checked.facts += len(facts)
                    out.add(repaired)
                    continue
                if not rewrite:
                    checked.dropped += 1
                    continue
                runner.check_cancelled()
                max_tokens = min(2 * runner.model.count_tokens(sentence) + BUDGETS.rewrite_extra_tokens,
                                 runner.model.n_ctx // BUDGETS.answer_ctx_divisor)
                passage = source.best_passage(sentence)
                room = runner.model.n_ctx - max_tokens - runner.margin() - runner.model.prompt_tokens(
                    prompts.rewrite(sentence, ""))
                passage = runner.model.split_tokens(passage, max(1, room))[0]
                rewritten = runner.prose(prompts.rewrite(sentence, passage), max_tokens).text.strip()
                facts, unsupported = source.unsupported(rewritten)
                if unsupported or not rewritten:
                    checked.dropped += 1
                    continue
                checked.rewritten += 1
                sentence = rewritten
            checked.facts += len(facts)
            out.add(sentence)
    checked.text = out.text
    return checked


def facts_to_keep(texts: list[str], most: int) -> list[str]:
    """The numbers (with the word after them), names and acronyms of some texts, each once, at most `most`: what a
    merge prompt lists so that a fact does not drift between levels."""
    found: list[str] = []
    for text in texts:
        for sentence in split_sentences(" ".join(text.split())):
            sentence = _normalize(sentence)
            for fact in facts_of(sentence):
                shown = fact.text
                if fact.kind == "number" and not fact.any_of:
                    after = sentence[sentence.find(fact.text) + len(fact.text):].split()[:1]
                    shown = " ".join([fact.text, *after]).rstrip(".,;:")
                if shown not in found:
                    found.append(shown)
    return found[:most]


def fact_precision(text: str, source: SourceIndex) -> tuple[int, int]:
    """(facts the document holds, facts) of a text: Nan et al.'s entity precision, with numbers and acronyms."""
    held = total = 0
    for sentence in split_sentences(" ".join(text.split())):
        facts, unsupported = source.unsupported(sentence)
        total += len(facts)
        held += len(facts) - len(unsupported)
    return held, total
