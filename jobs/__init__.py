"""Jobs: durable, queued work with progress, cancellation and results (the store comes first; the API and
worker that use it follow with issue 5)."""
