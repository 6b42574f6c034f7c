-- Jobs: durable, queued work with its options, input, progress, result or error, and the worker that owns it.
-- seq orders jobs made in the same instant (SQLite's rowid does that there).
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    task TEXT NOT NULL,
    status TEXT NOT NULL,
    options TEXT NOT NULL,
    input BYTEA,
    input_kind TEXT NOT NULL,
    filename TEXT,
    request_key TEXT,
    progress TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    error TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    shared INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_request ON jobs (request_key, status, finished_at);

-- Intermediate results of a running job (a chunk's summary), so a restarted job resumes where it was.
CREATE TABLE IF NOT EXISTS checkpoints (
    job_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (job_id, key)
);
