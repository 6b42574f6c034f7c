"""Runs a job: finds its task, reads back its options and document, and does the work on the model."""

from __future__ import annotations

from jobs.service import Execute, JobControl
from jobs.store import Job
from llm import TaskRunner
from llm.host import ModelHost
from llm.runner import CallObserver
from tasks import TASKS
from tasks.base import TaskWork
from tasks.document import Document


def make_executor(host: ModelHost, seed: int, on_call: CallObserver | None = None) -> Execute:
    """The function the job worker calls for each job; on_call sees every model call (for metrics)."""

    def execute(job: Job, control: JobControl) -> dict:
        task = TASKS[job.task]
        options = task.options.model_validate(job.options)
        runner = TaskRunner(
            host.get(), temperature=options.temperature, seed=seed, on_progress=control.progress,
            should_cancel=control.cancelled, should_stop=control.interrupted, on_call=on_call,
        )
        work = TaskWork(runner, control.checkpoints)
        return task.run(work, Document.decode(job.input), options).model_dump(mode="json")

    return execute
