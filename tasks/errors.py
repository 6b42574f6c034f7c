"""Errors of reading a request's document and of the tasks; the API's one error table says what each means over
HTTP."""


class InputError(Exception):
    """The document or text cannot be used as sent (empty, no words, options that do not apply to it)."""


class UnsupportedFileError(Exception):
    """The file is not a kind the service reads (judged by its content, not its name)."""


class TextTooLongError(Exception):
    """The text is longer than MAX_TEXT_CHARS."""


class NoAnswerError(Exception):
    """The text gave nothing to answer with (no key point, no summary): an answer is never empty."""
