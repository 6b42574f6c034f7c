-- Identical requests join one job even when they reach two API nodes at the same instant: at most one queued or
-- running job per request key (a job being cancelled no longer counts), so the second insert finds the first.
-- Duplicates that an older version let in keep running, only no longer joinable.
UPDATE jobs SET request_key = NULL
 WHERE status IN ('queued', 'running') AND cancel_requested = 0 AND request_key IS NOT NULL
   AND rowid NOT IN (SELECT MIN(rowid) FROM jobs
                      WHERE status IN ('queued', 'running') AND cancel_requested = 0 AND request_key IS NOT NULL
                      GROUP BY request_key);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_one_active_per_request ON jobs (request_key)
 WHERE status IN ('queued', 'running') AND cancel_requested = 0;

-- A job's file is kept as numbered chunks, each read on its own as it is sent (both engines store it this way);
-- a file stored before is its own single chunk.
CREATE TABLE IF NOT EXISTS job_file_chunks (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, number)
);
INSERT INTO job_file_chunks (job_id, number, data) SELECT job_id, 0, data FROM job_files;
ALTER TABLE job_files ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
UPDATE job_files SET size = length(data);
ALTER TABLE job_files DROP COLUMN data;
