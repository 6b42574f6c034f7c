"""Errors of the document library; the API's one error table says what each means over HTTP."""


class LibraryError(Exception):
    """Base class for library errors."""


class DocumentNotFoundError(LibraryError):
    """No document has this id in this library (another library's documents do not exist for it)."""


class CollectionNotFoundError(LibraryError):
    """No collection has this name in this library."""


class DocumentDeletedError(LibraryError):
    """A document a job reads was deleted while the job waited or ran: the job ends without a result."""


class EmptyCollectionError(LibraryError):
    """A collection holds no documents (they were all deleted), so there is nothing to ask."""
