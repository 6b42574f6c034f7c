"""CHAT_FORMAT: a named llama-cpp-python format instead of the GGUF's own template. Reading the formatter out of
llama-cpp-python's handler registry relies on its internals, so these tests hold it to what it must do."""

import llama_cpp
import pytest

from llm.errors import ModelUnavailableError
from llm.llama import check_chat_format
from llm.loader import load_model
from llm.model import GenerationParams
from settings import load_settings

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a lighthouse."}]


@pytest.mark.parametrize("name", ["chatml", "llama-2", "llama-3", "mistral-instruct"])
def test_plain_prompt_formats_are_accepted(name):
    check_chat_format(name)


def test_an_unknown_format_is_refused_with_the_known_ones():
    with pytest.raises(ModelUnavailableError, match=r"unknown CHAT_FORMAT 'nope'; known formats: .*chatml"):
        check_chat_format("nope")


@pytest.mark.parametrize("name", ["functionary-v2", "chatml-function-calling"])
def test_formats_that_are_not_plain_prompts_are_refused(name):
    with pytest.raises(ModelUnavailableError, match="not a plain prompt format"):
        check_chat_format(name)


@pytest.mark.model
@pytest.mark.parametrize(("name", "expected"), [
    ("chatml", "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nName a lighthouse.<|im_end|>\n"
               "<|im_start|>assistant\n"),
    ("llama-2", "[INST] <<SYS>>\nBe brief.\n<</SYS>> Name a lighthouse. [/INST]"),
])
def test_the_bundled_model_reads_exactly_the_named_format_and_answers(name, expected):
    model = load_model(load_settings(chat_format=name, n_ctx=512, n_threads=2))
    vocabulary = llama_cpp.Llama(model_path=model.info.path, vocab_only=True, verbose=False)
    try:
        tokens = vocabulary.tokenize(expected.encode(), add_bos=False, special=True)
        # The prompt the model reads is the format's text, token for token (a BOS added when the model wants one).
        assert model.prompt_tokens(MESSAGES) - len(tokens) in (0, 1)
        answer = model.generate(MESSAGES, GenerationParams(max_tokens=8))
        assert answer.prompt_tokens == model.prompt_tokens(MESSAGES)
        assert 0 < answer.completion_tokens <= 8
        assert model.info.extra["chat_format"] == name
    finally:
        vocabulary.close()
        model.close()
