"""Why a document could not be read; the API maps each to an HTTP answer."""


class DocumentError(Exception):
    """A document that cannot be used, with a message in plain words."""


class NotAPdfError(DocumentError):
    """The bytes are not a PDF (or a text file), whatever the name or content type says."""


class EmptyFileError(DocumentError):
    """The file has no bytes."""


class PasswordRequiredError(DocumentError):
    """The PDF is encrypted and the empty password does not open it."""


class PasswordIncorrectError(DocumentError):
    """The password given does not open the PDF."""


class NoTextError(DocumentError):
    """No page has a text layer: the PDF is a scan and needs OCR."""


class GarbledTextError(DocumentError):
    """The text extracts as garbage (fonts without a Unicode map, mojibake) on every page."""


class UnreadableError(DocumentError):
    """The file is broken or truncated beyond repair."""


class TooManyPagesError(DocumentError):
    """The PDF has more pages than allowed."""


class TooComplexError(DocumentError):
    """Reading the PDF took more time or memory than allowed."""


class PageRangeError(DocumentError):
    """The pages asked for are malformed or outside the document."""


class ReaderBusyError(DocumentError):
    """No document reader could be started now (too many at once, or the system refused)."""
