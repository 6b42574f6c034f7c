"""The final text of an answer, built a sentence at a time as each sentence passes its checks, and handed on piece by
piece as it grows (a job's `delta` events): what was streamed is always the start of the text the answer ends with,
never a draft that a check later takes back."""

from __future__ import annotations

from collections.abc import Callable

PARAGRAPH_BREAK = "\n\n"


class StreamedText:
    """A text made of sentences in paragraphs; each sentence added is handed to on_piece with the separator before
    it, so the pieces handed on join to exactly `text`."""

    def __init__(self, on_piece: Callable[[str], None] | None = None) -> None:
        self._on_piece = on_piece
        self._pieces: list[str] = []
        self._paragraph_open = False  # whether the next sentence continues the last paragraph

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def add(self, sentence: str) -> None:
        """Add a sentence to the current paragraph (it opens one when none is open)."""
        sentence = sentence.strip()
        if not sentence:
            return
        separator = (" " if self._paragraph_open else PARAGRAPH_BREAK) if self._pieces else ""
        self._paragraph_open = True
        piece = separator + sentence
        self._pieces.append(piece)
        if self._on_piece is not None:
            self._on_piece(piece)

    def end_paragraph(self) -> None:
        """The next sentence starts a new paragraph (nothing is handed on until it comes)."""
        self._paragraph_open = False

    def add_paragraph(self, paragraph: str) -> None:
        """Add a whole paragraph (text that needs no check of its own, such as the document's own sentences)."""
        self.end_paragraph()
        self.add(paragraph)
        self.end_paragraph()
