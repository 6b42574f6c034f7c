"""Errors of the data store."""


class StorageError(Exception):
    """The data store cannot be used as it is."""


class SchemaTooNewError(StorageError):
    """The database was made by a newer version of the service than this one."""
