-- What every process of a deployment must agree on (the model it serves), recorded by the first to start: a
-- worker with another model would answer with it.
CREATE TABLE IF NOT EXISTS deployment (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
