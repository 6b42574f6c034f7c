-- A job's file (the audio of POST /generate-audio): its bytes, kept and purged with its job.
CREATE TABLE IF NOT EXISTS job_files (
    job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    data BYTEA NOT NULL
);
