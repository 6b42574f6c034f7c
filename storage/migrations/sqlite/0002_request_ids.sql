-- The id of the request that made a job gets a column of its own; it used to be kept among the task's options.
ALTER TABLE jobs ADD COLUMN request_id TEXT;
UPDATE jobs
   SET request_id = json_extract(options, '$.request_id'),
       options = json_remove(options, '$.request_id')
 WHERE json_type(options, '$.request_id') IS NOT NULL;
