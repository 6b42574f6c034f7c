"""What the service does with a document, one module per task (summary.py, points.py), found by name here.

Adding a task means a module that defines its options, its answer and its run function as a `Task`, one line in
TASKS below, and one route that submits it (routes/generate.py).
"""

from __future__ import annotations

import json

from jobs.service import NewJob, request_key
from tasks.base import Task, TaskOptions, TaskResult, TaskWork
from tasks.document import Document, Received
from tasks.points import POINTS
from tasks.summary import SUMMARY

TASKS: dict[str, Task] = {task.name: task for task in (SUMMARY, POINTS)}

__all__ = ["TASKS", "Document", "Received", "Task", "TaskOptions", "TaskResult", "TaskWork", "new_job"]


def new_job(task: Task, options: TaskOptions, received: Received, model_name: str, request_id: str | None) -> NewJob:
    """The job for a request: its options as stored, its document, and the key that identical requests (same
    task, model, options, page range and bytes sent) share."""
    stored = options.model_dump(exclude_none=True)
    key = request_key(task.name, model_name, json.dumps({**stored, "pages": received.pages_asked}, sort_keys=True),
                      received.raw)
    return NewJob(task=task.name, options=stored, input=received.document.encode(), request_key=key,
                  input_kind=received.kind, filename=received.filename, request_id=request_id)
