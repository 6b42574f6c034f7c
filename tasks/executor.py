"""Runs a job: finds its task, reads back its options and document, and does the work on the model."""

from __future__ import annotations

from jobs.service import Execute, JobControl
from jobs.store import Job
from library.errors import DocumentDeletedError, DocumentNotFoundError
from library.store import LibraryStore
from llm import TaskRunner
from llm.host import ModelHost
from llm.runner import CallObserver
from llm.summarize import SummaryPlan
from speech import SpeechEngine
from tasks import TASKS
from tasks.base import TaskWork
from tasks.document import ReadingLimits


def make_executor(host: ModelHost, seed: int, library: LibraryStore, reading_limits: ReadingLimits,
                  on_call: CallObserver | None = None, summary_plan: SummaryPlan | None = None,
                  speech: SpeechEngine | None = None) -> Execute:
    """The function the job worker calls for each job; on_call sees every model call (for metrics)."""
    plan = summary_plan or SummaryPlan()
    engine = speech or SpeechEngine()

    def documents_still_there(job: Job) -> None:
        # A job on stored documents answers only while they exist: a result about a deleted one is never kept.
        if not job.document_ids:
            return
        try:
            library.require(job.library, job.document_ids)
        except DocumentNotFoundError as missing:
            raise DocumentDeletedError(f"{missing} while the job ran") from None

    def execute(job: Job, control: JobControl) -> dict:
        task = TASKS[job.task]
        options = task.options.model_validate(job.options)
        runner = None
        if task.uses_model:
            runner = TaskRunner(
                host.get(), temperature=options.temperature, seed=seed, on_progress=control.progress,
                should_cancel=control.cancelled, should_stop=control.interrupted, on_call=on_call, group=job.id,
                helper=control.helper, on_shared_map=control.on_shared_map,
            )
        work = TaskWork(runner, control.checkpoints, job_id=job.id, library=library, library_name=job.library,
                        progress=control.progress, reading_limits=reading_limits, summary_plan=plan,
                        speech=engine, save_file=control.save_file, stream=control.stream)
        documents_still_there(job)
        result = task.run(work, task.read_input(job.input), options).model_dump(mode="json")
        documents_still_there(job)
        return result

    return execute
