-- The id of the request that made a job gets a column of its own; it used to be kept among the task's options.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS request_id TEXT;
UPDATE jobs
   SET request_id = options::jsonb ->> 'request_id',
       options = (options::jsonb - 'request_id')::text
 WHERE options::jsonb ? 'request_id';
