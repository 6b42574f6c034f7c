"""Output hygiene: template tokens, preambles, loops, repeats, cut-off sentences, list parsing."""

import pytest

from llm.cleanup import clean_prose, cut_loop, is_near_duplicate, parse_points, split_sentences


def test_template_tokens_and_preamble_are_removed():
    raw = "Here is a summary of the text:\nThe tower was built in 1822.<|im_end|>\n<|im_start|>assistant"
    assert clean_prose(raw).text == "The tower was built in 1822."


def test_repeated_sentences_are_removed_and_flagged():
    raw = "Ships need light. Ships need light. Ships need light. The keepers left in 1998."
    cleaned = clean_prose(raw)
    assert cleaned.text == "Ships need light. The keepers left in 1998."
    assert cleaned.removed == 2
    assert cleaned.degenerate


def test_loop_inside_a_sentence_is_cut():
    text, looped = cut_loop("The lens is very very very very very bright")
    assert looped
    assert text == "The lens is very"
    assert cut_loop("A normal sentence with no loop.") == ("A normal sentence with no loop.", False)


def test_phrase_loop_is_cut():
    raw = "The light turns and the light turns and the light turns and the light turns and"
    text, looped = cut_loop(raw)
    assert looped
    assert text.count("the light turns") <= 1


def test_cut_off_last_sentence_is_dropped_when_truncated():
    raw = "The first lens came in 1822. Keepers wound the clockwork every"
    assert clean_prose(raw, truncated=True).text == "The first lens came in 1822."
    assert clean_prose(raw, truncated=False).text == raw


def test_title_line_before_prose_is_dropped():
    raw = "Lighthouses: How Coastal Lights Kept Ships Safe\nLighthouses guide ships. They use lenses."
    assert clean_prose(raw).text == "Lighthouses guide ships. They use lenses."


def test_split_sentences_keeps_abbreviations():
    sentences = split_sentences("Lenses, e.g. Fresnel ones, focus light. Dr. Smith agreed. It works!")
    assert sentences == ["Lenses, e.g. Fresnel ones, focus light.", "Dr. Smith agreed.", "It works!"]


@pytest.mark.parametrize(
    "raw",
    [
        "1. First point here.\n2. Second point here.\n3. Third point here.",
        "- First point here.\n- Second point here.\n- Third point here.",
        "Key points:\n* First point here.\n* Second point here.\n* Third point here.",
        "1) **First**: point here.\n2) Second point here.\n3) Third point here.",
    ],
)
def test_parse_points_reads_common_list_styles(raw):
    points = parse_points(raw)
    assert len(points) == 3
    assert points[1] == "Second point here."
    assert all(not point.startswith(("-", "*", "1")) for point in points)


def test_near_duplicates_are_detected():
    assert is_near_duplicate("The lens was invented in 1822.", ["In 1822 the lens was invented."])
    assert not is_near_duplicate("Keepers lived on islands.", ["The lens was invented in 1822."])


def test_split_sentences_keeps_closing_quotes_and_brackets():
    assert split_sentences('He said "Stop." And left.') == ['He said "Stop."', "And left."]
    assert split_sentences("(See fig. 2.) Next one.") == ["(See fig. 2.)", "Next one."]


def test_split_sentences_handles_cjk_punctuation():
    sentences = split_sentences("灯台は1822年に改良された。レンズは明るい。")
    assert sentences == ["灯台は1822年に改良された。", "レンズは明るい。"]


def test_list_shaped_summary_keeps_every_item():
    raw = "- Built in 1850 by the board\n- Automated in 1985 after a storm\n- Now a museum open in summer"
    assert clean_prose(raw).text.count("-") == 3


def test_loops_without_spaces_are_cut():
    text, looped = cut_loop("The crowd laughed hahahahahahahahahahaha all night")
    assert looped
    assert "hahahaha" not in text
    assert cut_loop("東京東京東京東京東京東京東京")[1]


def test_cut_output_is_marked():
    assert clean_prose("One sentence that stops", truncated=True).cut
    assert not clean_prose("One full sentence.").cut
