-- Which worker makes which piece of a job (a part of a long document) when several share it: one at a time per
-- piece; a piece whose worker died is claimed again. Deleted with the job's checkpoints when it ends.
CREATE TABLE IF NOT EXISTS job_claims (
    job_id TEXT NOT NULL,
    key TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (job_id, key)
);
