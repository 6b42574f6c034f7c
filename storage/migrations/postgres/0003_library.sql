-- Each API key's library (its name, or an HMAC of an unnamed key; '' is the shared library of a server without
-- keys). Jobs belong to one library; so do documents.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS library TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS jobs_by_library ON jobs (library, created_at);

-- Stored documents: read once, kept with their pages until deleted. source_key identifies the bytes and page
-- range sent, so the same upload again finds the same document.
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    library TEXT NOT NULL,
    title TEXT NOT NULL,
    source_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    filename TEXT,
    pages INTEGER NOT NULL,
    characters INTEGER NOT NULL,
    warnings TEXT NOT NULL DEFAULT '[]',
    created_at DOUBLE PRECISION NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS documents_by_source ON documents (library, source_key);
CREATE INDEX IF NOT EXISTS documents_by_library ON documents (library, created_at);
-- Titles are searched too (SQLite has an FTS5 table for them; here an index on the expression).
CREATE INDEX IF NOT EXISTS documents_by_title_words ON documents USING GIN (to_tsvector('english', title));

-- A document's pages as read, the text every quote is checked against.
CREATE TABLE IF NOT EXISTS document_pages (
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    text TEXT NOT NULL,
    ocr INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (document_id, number)
);

-- Passages: a few sentences of one page each, the units retrieval finds. PostgreSQL's own full-text search
-- (English stemming, a GIN index) stands where SQLite has FTS5.
CREATE TABLE IF NOT EXISTS passages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    words TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
);
CREATE INDEX IF NOT EXISTS passages_by_document ON passages (document_id, page, position);
CREATE INDEX IF NOT EXISTS passages_by_words ON passages USING GIN (words);

-- Which documents a job reads: results made from a document go with it, and a question about a deleted one ends.
CREATE TABLE IF NOT EXISTS job_documents (
    job_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    PRIMARY KEY (job_id, document_id)
);
CREATE INDEX IF NOT EXISTS job_documents_by_document ON job_documents (document_id);

-- Collections: named sets of documents with standing instructions.
CREATE TABLE IF NOT EXISTS collections (
    library TEXT NOT NULL,
    name TEXT NOT NULL,
    instructions TEXT NOT NULL DEFAULT '',
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (library, name)
);
CREATE TABLE IF NOT EXISTS collection_documents (
    library TEXT NOT NULL,
    name TEXT NOT NULL,
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (library, name, document_id),
    FOREIGN KEY (library, name) REFERENCES collections (library, name) ON DELETE CASCADE
);
