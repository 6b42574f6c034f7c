"""Errors of the data store; the API's one error table says what each means over HTTP."""


class StorageError(Exception):
    """The data store cannot be used as it is."""


class SchemaTooNewError(StorageError):
    """The database was made by a newer version of the service than this one."""


class StorageUnavailableError(StorageError):
    """The database server cannot be reached now (restarting, failing over, a network cut): try again shortly."""
