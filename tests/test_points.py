"""Key points on the fake model: exact count, distinct, grounded, cited pages, warnings when short."""

from llm import TaskRunner, TextBlock, blocks_from_text, key_points
from tests.conftest import SAMPLE_TEXT
from tests.fakes import FakeModel


def test_exact_count_of_distinct_points():
    result = key_points(TaskRunner(FakeModel()), blocks_from_text(SAMPLE_TEXT), count=5)
    texts = [point.text for point in result.points]
    assert len(texts) == 5
    assert len(set(texts)) == 5
    assert all(point.pages == [] for point in result.points)
    assert result.warnings == []


def test_duplicates_headings_and_ungrounded_points_are_dropped_then_gaps_filled():
    answer = (
        "1. Lighthouses: How Coastal Lights Kept Ships Safe\n"
        "2. The Fresnel lens was invented in 1822.\n"
        "3. In 1822 the Fresnel lens was invented.\n"
        "4. Quantum computers will replace smartphones by tomorrow.\n"
    )
    model = FakeModel([answer, "1. The Fresnel lens was invented in 1822."])
    result = key_points(TaskRunner(model), blocks_from_text(SAMPLE_TEXT), count=4)
    texts = [point.text for point in result.points]
    assert len(texts) == 4
    assert sum("Fresnel" in text and "1822" in text for text in texts) == 1
    assert not any("Quantum" in text or text.startswith("Lighthouses: How") for text in texts)


def test_fewer_points_with_a_warning_when_the_text_cannot_give_more():
    model = FakeModel(default=lambda messages: "1. The lamp is bright.")
    result = key_points(TaskRunner(model), blocks_from_text("The lamp is bright."), count=6)
    assert [point.text for point in result.points] == ["The lamp is bright."]
    assert result.warnings and "only 1" in result.warnings[0]


def test_cut_off_last_item_is_dropped():
    model = FakeModel(default=lambda messages: "1. " + " ".join(["lens"] * 500))
    result = key_points(TaskRunner(model), blocks_from_text(SAMPLE_TEXT), count=3)
    assert all("lens lens" not in point.text for point in result.points)
    assert len(result.points) == 3


def test_points_cite_the_pages_that_say_them():
    pages = [
        TextBlock("The harbour of Port Aven was dredged in 1911 to admit steamers.", 1),
        TextBlock("Nothing else happened for a while in the quiet town near the cliffs.", 2),
        TextBlock("A bronze bell was cast for the chapel by Martin Keel in 1923.", 3),
    ]
    answer = (
        "1. The harbour of Port Aven was dredged in 1911.\n"
        "2. Martin Keel cast a bronze bell for the chapel in 1923."
    )
    result = key_points(TaskRunner(FakeModel([answer])), pages, count=2)
    cited = {point.text: point.pages for point in result.points}
    assert cited["The harbour of Port Aven was dredged in 1911."] == [1]
    # A near-copy of one sentence is shown as that sentence, verbatim.
    assert cited["A bronze bell was cast for the chapel by Martin Keel in 1923."] == [3]


def test_long_document_points_come_from_all_chunks_within_context():
    text = "\n\n".join(f"Record {i}: harbour{i} stores {i * 7} charts in vault{i}." for i in range(200))
    model = FakeModel(n_ctx=512)
    result = key_points(TaskRunner(model), blocks_from_text(text), count=8)
    assert result.chunks > 3
    assert len(result.points) == 8
    assert all(call.prompt_tokens + call.params.max_tokens <= 512 for call in model.calls)


def test_cjk_text_gives_points():
    facts = ["灯台は一八二二年に新しいレンズを使い始めた。", "灯台守は家族と一緒に島に住んでいた。",
             "電気の灯りが二十世紀に油を置き換えた。", "最後の灯台守は一九九八年に去った。",
             "今では多くの古い塔が博物館になっている。"]
    answer = "\n".join(f"{n}. {fact}" for n, fact in enumerate(facts, start=1))
    result = key_points(TaskRunner(FakeModel([answer])), blocks_from_text("".join(facts)), count=5)
    assert [point.text for point in result.points] == facts


def test_a_rewrite_the_document_does_not_say_is_dropped_not_kept():
    model = FakeModel([
        "1. Marcel Fresnel gave lighthouses a new kind of lens in 1822.",  # a name it lacks: the model rewrites it
        "Many farmers planted wheat and barley in the quiet valleys.",  # no fact to fail, and not the document's words
    ])
    result = key_points(TaskRunner(model), blocks_from_text(SAMPLE_TEXT), count=1)
    assert len(model.calls) == 2  # the candidates, then the one rewrite
    assert (result.checked.rewritten, result.checked.dropped) == (0, 1)
    assert "farmers" not in result.points[0].text
    assert result.points[0].text in " ".join(SAMPLE_TEXT.split())  # a sentence of the document took its place
