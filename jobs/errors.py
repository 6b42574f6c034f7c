"""Errors of the job queue; the API's one error table says what each means over HTTP."""


class JobError(Exception):
    """Base class for job errors."""


class QueueFullError(JobError):
    """The queue already holds MAX_QUEUE waiting jobs."""


class JobNotFoundError(JobError):
    """No job has this id: it never existed, or it has expired and was purged."""


class JobCancelledError(JobError):
    """The job was cancelled before it could answer."""
