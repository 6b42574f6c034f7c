"""Jobs: durable, queued work with progress, cancellation and results. The store keeps them (SQLite under
DATA_DIR), the service runs them on one worker thread and is all the HTTP layer talks to; what each kind of job
does lives in tasks/."""
