"""Errors of the tasks; the API's one error table says what each means over HTTP."""


class NoAnswerError(Exception):
    """The text gave nothing to answer with (no key point, no summary): an answer is never empty."""
