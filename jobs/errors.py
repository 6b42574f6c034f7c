"""Errors of the job queue; the API's one error table says what each means over HTTP."""


class JobError(Exception):
    """Base class for job errors."""


class QueueFullError(JobError):
    """The queue already holds MAX_QUEUE waiting jobs."""


class JobNotFoundError(JobError):
    """No job has this id: it never existed, or it has expired and was purged."""


class JobCancelledError(JobError):
    """The job was cancelled before it could answer."""


class JobNotFinishedError(JobError):
    """The job has not ended yet (or ended without the result asked for)."""


class TooManyWaitingError(JobError):
    """MAX_WAITING requests already wait on jobs (synchronous requests, long-polls, event streams)."""


class ResultNotReadyError(JobError):
    """A synchronous request's job is still running past SYNC_TIMEOUT_S and its answer cannot be a job reference
    (audio saved with `curl --output`): it says where the result will be."""


class DeploymentMismatchError(JobError):
    """This process serves another model than the live workers of its deployment: it must not start."""
