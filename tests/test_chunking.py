"""Chunking: every chunk within budget, nothing dropped, order and pages kept."""

from llm.chunking import TextBlock, blocks_from_text, chunk_blocks, pack_texts
from llm.cleanup import words
from tests.fakes import FakeModel


def _paragraph(index: int, sentences: int = 5) -> str:
    return " ".join(f"Paragraph {index} sentence {n} says something specific." for n in range(sentences))


def test_chunks_fit_the_budget_and_keep_every_word_in_order():
    model = FakeModel()
    text = "\n\n".join(_paragraph(i) for i in range(40))
    chunks = chunk_blocks(blocks_from_text(text), model, budget=120)
    assert len(chunks) > 5
    assert all(model.count_tokens(chunk.text) <= 120 for chunk in chunks)
    assert words(" ".join(chunk.text for chunk in chunks)) == words(text)


def test_overlong_sentence_is_cut_not_dropped():
    model = FakeModel()
    sentence = " ".join(f"word{n}" for n in range(500)) + "."
    chunks = chunk_blocks(blocks_from_text(sentence), model, budget=100)
    assert len(chunks) >= 5
    assert all(model.count_tokens(chunk.text) <= 100 for chunk in chunks)
    assert words(" ".join(chunk.text for chunk in chunks)) == words(sentence)


def test_chunks_record_their_pages():
    model = FakeModel()
    blocks = [TextBlock(_paragraph(page, 8), page) for page in range(1, 7)]
    chunks = chunk_blocks(blocks, model, budget=150)
    assert chunks[0].pages[0] == 1
    assert sorted({page for chunk in chunks for page in chunk.pages}) == [1, 2, 3, 4, 5, 6]
    for chunk in chunks:
        for page, text in chunk.page_texts.items():
            assert f"Paragraph {page} " in text


def test_pack_texts_groups_within_budget():
    groups = pack_texts(["a b c"] * 10, lambda text: len(text.split()), budget=12)
    assert all(sum(len(t.split()) + 2 for t in group) <= 12 for group in groups)
    assert sum(len(group) for group in groups) == 10


def test_long_unpunctuated_text_is_chunked_in_linear_time():
    import time

    model = FakeModel()
    text = "lorem ipsum dolor sit amet " * 40_000  # about a million characters, no sentence ends
    started = time.monotonic()
    chunks = chunk_blocks(blocks_from_text(text), model, budget=300)
    assert time.monotonic() - started < 20
    assert all(model.count_tokens(chunk.text) <= 300 for chunk in chunks)
    assert sum(len(words(chunk.text)) for chunk in chunks) == len(words(text))
