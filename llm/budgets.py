"""Every default and budget of the model work, named and explained once: decoding defaults, how a context window
is shared between prompt, input and output, and how long answers may be.

Ratios that divide a whole number of tokens are kept as integer divisors (n_ctx // 3), so a budget is the same
number of tokens on every machine; shares of a budget that was already computed are fractions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budgets:
    """The service's budgets; BUDGETS below is the one instance the code reads."""

    # Decoding
    temperature: float = 0.0
    """Sampling temperature when a request does not set one: 0 always picks the likeliest token."""
    seed: int = 42
    """Sampling seed when the SEED setting is not given: with temperature 0 the same input gives the same answer."""
    repeat_penalty: float = 1.1
    """Repeat penalty of every first try; small models loop without one."""
    retry_repeat_penalty: float = 1.3
    """Repeat penalty of the one retry a degenerate (looping, repeating or empty) answer gets."""
    top_p: float = 0.95
    """Nucleus sampling cut-off (matters only at temperature > 0)."""
    chat_temperature: float = 0.8
    """Temperature of a /v1/chat/completions request that sets none (llama.cpp's server and llama-cpp-python's use
    0.8; OpenAI's 1.0 makes a small model ramble)."""
    top_k: int = 40
    """Most candidate tokens sampled from at temperature > 0 (llama-cpp-python's default, kept by every engine)."""
    min_p: float = 0.05
    """Candidates less likely than this share of the likeliest are dropped (llama-cpp-python's default)."""
    repeat_last_n: int = 64
    """Generated tokens the repeat penalty looks back over (llama-cpp-python's default)."""

    # The batching engine (llm/engine.py)
    default_slots: int = 8
    """Sequences generated at once when SLOTS is not set, fewer where memory for SLOTS x N_CTX is short. Measured on
    2 CPU cores with the bundled model, 16 clients (bench/load.py, engines phase): requests/min of short summaries
    19 at 1 slot, 28 at 4, 33 at 8; of 200-token answers 27, 41 and 51 (Q4_1, FLASH_ATTN=auto); with the Q8_0
    weights and FLASH_ATTN=off, 31.5 and 41.7 summaries, 32.3 and 56.4 answers at 1 and 8 slots."""
    slots_memory_share: float = 0.5
    """An automatic SLOTS keeps the model and its context within this share of the memory free at start."""
    engine_prefill_slice: int = 128
    """Most prompt tokens read in one step while other sequences generate: at ~400 prompt tokens/s on 2 cores a
    slice costs the others about 0.3 s, so a 2,000-token prompt never stalls them for seconds."""

    # The context window
    max_default_n_ctx: int = 8192
    """N_CTX=0 takes the model's trained context, capped here: a 128k context would need gigabytes of memory."""
    fallback_n_ctx: int = 4096
    """The context used when the model file does not say what it was trained with."""
    margin_tokens: int = 8
    """Tokens kept free in every call, for the stop sequence and rounding; plus one per margin_per_ctx of n_ctx."""
    margin_per_ctx: int = 128
    """One more free token for every this many tokens of context."""
    answer_ctx_divisor: int = 3
    """An answer (a final summary, a list of points) may take at most n_ctx // 3 tokens, so a useful input fits."""
    min_prompt_ctx_divisor: int = 3
    """A model whose bare prompts take more than n_ctx // 3 tokens cannot do real work: refused at load."""

    # Summaries
    summary_input_divisor: int = 3
    """A summary is never longer than what it summarizes: at most a third of the input's tokens are asked for."""
    summary_tokens_per_sentence: int = 30
    """About how many tokens a summary sentence takes, to turn a token bound into a number of sentences."""
    min_summary_tokens: int = 24
    """The smallest token cap a bounded summary gets (never more than the input itself has)."""
    section_reserve_min: int = 48
    """Fewest output tokens of one part summary (the map step of a long document)."""
    section_reserve_max: int = 256
    """Most output tokens of one part summary."""
    section_reserve_ctx_divisor: int = 6
    """A part summary takes at most n_ctx // 6 tokens, so several fit one merge prompt."""
    section_reserve_floor: int = 24
    """Below this a part summary cannot say anything: the context is refused as too small."""
    section_reserve_shrink: float = 0.75
    """How much a part summary's reserve shrinks per try while the merge budgets do not fit."""
    section_words_per_token: float = 0.6
    """Words asked of a part summary per output token it may use."""
    min_section_words: int = 20
    """Fewest words asked of a part summary."""
    separator_tokens: int = 8
    """Tokens counted for the blank lines between joined texts."""
    final_summaries_share: float = 0.35
    """Share of the final prompt's input budget for the merged part summaries; the rest holds the document's own
    opening and closing."""
    final_opening_share: float = 0.6
    """Share of the remaining room for the document's opening (the closing gets what is left)."""
    min_opening_room: int = 32
    """Tokens of room below which the final prompt carries no opening or closing at all."""
    salience_position_weight: float = 0.2
    """How much a sentence's position counts in its salience against its centrality (llm/salience.py). Chosen on
    the 100 ACLSum train papers (extracts of 150 words, ROUGE-Lsum against the abstract, bench/salience.py): 0 0.372,
    0.1 0.383, 0.2 0.389, 0.3 0.385, 0.4 0.366; the first 150 words 0.315."""
    boilerplate_repeats: int = 2
    """A sentence whose words (numbers aside) recur more often than this in a document is boilerplate (running
    headers, footers) and never chosen as salient."""
    salience_position_decay: float = 10.0
    """A sentence at a tenth of the document weighs half as much by position as the first one."""
    summary_read_tokens: int = 2048
    """Default of SUMMARY_READ_TOKENS: a longer text is not read whole by the summary's writer but through its most
    salient sentences, this many tokens of them at most (extract, then abstract); 0 reads everything (map and merge
    levels when it does not fit). Chosen on the first 16 ACLSum train papers at N_CTX 2048 (bench/RESULTS.md):
    ROUGE-Lsum 0.342 reading 1,536 tokens, 0.354 reading as much as fits (about 1,700), against 0.327 for the first
    150 words and 0.334 for the opening cut to fit."""
    summary_candidates: int = 3
    """Default of SUMMARY_CANDIDATES: how many summaries are written of the same input (the first at the request's
    temperature, the others at candidate_temperature), of which the server keeps the one that is its own words,
    fits the length, covers the document's salient content best and states the fewest facts it does not hold.
    On the same 16 train papers, 3 candidates (reading 2,048 tokens) gave ROUGE-Lsum 0.358 and 100% of summaries in
    their word range, against 0.354 and 88% with one."""
    candidate_temperature: float = 0.7
    """Sampling temperature of the second and later candidates."""
    max_copied_share: float = 0.5
    """A summary is the model's own sentences: a candidate with more than this share of near-copies of one
    sentence of the document ranks below every candidate with fewer."""
    merge_facts: int = 12
    """Most facts (numbers, names, acronyms) of its inputs that a merge prompt lists to be kept as written."""
    merge_fact_tokens: int = 64
    """Tokens of a merge prompt kept for that list ..."""
    merge_fact_ctx_divisor: int = 16
    """... and at most n_ctx // 16 of them, so that a small context still has room to merge."""
    min_read_tokens: int = 64
    """Fewest tokens of salient sentences a summary's writer must have room for, or the context is refused as too
    small."""
    max_merge_levels: int = 64
    """Merge levels after which the hierarchy is a bug (the budgets guarantee far fewer)."""

    # Key points
    tokens_per_point: int = 48
    """Output tokens one key point may take."""
    extra_points_asked: int = 2
    """The model is asked for this many more points than wanted, to leave room for dropping weak ones."""
    min_points_per_chunk: int = 3
    """Fewest points asked of each chunk of a long document."""
    points_reserve_overhead: int = 16
    """Output tokens of a points answer besides its points (numbering, line breaks)."""
    max_cited_pages: int = 3
    """Most pages a key point may cite."""
    min_grounding: float = 0.5
    """Share of a point's content words that its source text must contain, or the point is dropped."""
    point_duplicate_similarity: float = 0.6
    """Word overlap (Jaccard) above which two points say the same thing and are folded into one."""
    key_sentence_words: tuple[int, int] = (6, 60)
    """Fewest and most words of a sentence of the text that may stand in as a key point."""

    # The fact check (llm/facts.py)
    verbatim_similarity: float = 0.8
    """Word overlap (Jaccard) above which a key point is a near-copy of one sentence and is shown as that sentence."""
    rewrite_extra_tokens: int = 24
    """A rewritten sentence may be twice as long as the one it replaces, plus this many tokens."""

    # Questions (/ask)
    answer_max_tokens: int = 160
    """Token cap of an answer: a few sentences, each checked against the passages."""
    ask_context_tokens: int = 1600
    """Most tokens of passages in a question's prompt (fewer when the context is smaller): more slows a CPU down
    more than it helps a small model."""
    min_ask_excerpt_tokens: int = 48
    """Fewest tokens of passages a question's prompt must have room for, or the question is refused as too long."""
    ask_passages: int = 12
    """Most passages retrieved for one question."""
    ask_history_turns: int = 6
    """Most earlier turns of a conversation that go into the prompt (the newest ones, as they fit)."""
    evidence_passages: int = 3
    """A question's terms count as held by the documents where one of this many best passages has them (an answer
    is in one place; the words of a question about something else are scattered)."""
    min_question_coverage: float = 0.4
    """Share of a question's terms (weighted by rarity) that the best passages must hold for it to count as
    answerable. Chosen on all 99 ACLSum train papers with bench/qa.py --retrieval-only: with 3 passages and 0.4,
    91% of questions naming the paper's own method or result are kept and 93% naming another paper's are refused."""
    min_answer_support: float = 0.6
    """Share of an answer sentence's content words that the retrieved passages must hold, or it is dropped."""
    min_quote_support: float = 0.35
    """Share of an answer sentence's content words its quote must hold to be cited for it."""
    extractive_answer_sentences: int = 2
    """When the model's answer is unsupported but the documents hold the question: this many best-matching source
    sentences answer instead, as quotes."""

    # Messages (llm/message.py)
    message_tokens: int = 250
    """Default cap on a message body's tokens: the older message writer's default `token_count`."""
    message_temperature: float = 0.7
    """Default temperature of messages: variants of one message are meant to read differently (the older client's
    default too)."""
    message_variants: int = 6
    """Default number of variants: the older client's largest `n_gen`."""
    message_point_coverage: float = 0.75
    """Share of a point's content words (stemmed) a message must hold for the point to count as covered."""
    message_min_grounding: float = 0.34
    """Share of a message sentence's content words (stemmed) the points and fields must hold, or it is dropped as
    padding the model made up."""
    message_repair_temperature: float = 0.5
    """Highest temperature of the call that asks for a point a message left out. On 40 ACLSum train points the
    bundled model kept a point 28 times at 0, 26 at 0.3 and 0.5, 17 at 0.7."""
    message_subject_words: int = 8
    """A subject made from the first point keeps at most this many of its words."""
    message_duplicate_similarity: float = 0.85
    """Two bodies whose word sets overlap this much (Jaccard) say the same: the later one is written again. Higher
    than for key points, since every variant states the same points."""
    message_retry_seed_offset: int = 1000
    """A variant written again uses its seed plus this, away from every other variant's seed."""


BUDGETS = Budgets()


def margin(n_ctx: int) -> int:
    """Tokens kept free in every call of a model with this context."""
    return BUDGETS.margin_tokens + n_ctx // BUDGETS.margin_per_ctx
