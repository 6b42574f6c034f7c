"""An answer to a question from excerpts of documents: as many of the best excerpts and of the newest turns of the
conversation as fit the context, then one model call."""

from __future__ import annotations

from dataclasses import dataclass

from llm import prompts
from llm.budgets import BUDGETS
from llm.errors import InputTooLargeError
from llm.model import Message
from llm.runner import TaskRunner


@dataclass(frozen=True)
class Answer:
    """The model's answer, and how many of the excerpts (the first ones) its prompt held."""

    text: str
    excerpts_used: int


def answer_question(runner: TaskRunner, excerpts: list[str], question: str, history: list[Message],
                    instructions: str) -> Answer:
    """Answer from the excerpts (best first); every call fits the context: excerpts are taken while they fit
    ASK_CONTEXT_TOKENS and the window, then the newest turns of the history that still fit."""
    model = runner.model
    max_tokens = min(BUDGETS.answer_max_tokens, model.n_ctx // BUDGETS.answer_ctx_divisor)
    room = model.n_ctx - runner.margin() - max_tokens
    bare = model.prompt_tokens(prompts.question([], question, [], instructions))
    budget = min(BUDGETS.ask_context_tokens, room - bare)
    if budget < BUDGETS.min_ask_excerpt_tokens:
        raise InputTooLargeError(
            f"the question and its instructions take {bare} tokens: with this model's context ({model.n_ctx} "
            "tokens) no room is left for the documents' passages; ask a shorter question"
        )
    chosen: list[str] = []
    used = 0
    for excerpt in excerpts:
        tokens = model.count_tokens(excerpt) + BUDGETS.separator_tokens
        if used + tokens > budget:
            if chosen:
                break
            excerpt = model.split_tokens(excerpt, max(1, budget - BUDGETS.separator_tokens))[0]
            tokens = budget
        chosen.append(excerpt)
        used += tokens
    turns: list[Message] = []
    for turn in reversed(history[-BUDGETS.ask_history_turns:]):
        attempt = [turn, *turns]
        if model.prompt_tokens(prompts.question(chosen, question, attempt, instructions)) > room:
            break
        turns = attempt
    runner.progress("answering", 0, 1)
    cleaned = runner.prose(prompts.question(chosen, question, turns, instructions), max_tokens)
    runner.progress("answering", 1, 1)
    return Answer(cleaned.text, len(chosen))
