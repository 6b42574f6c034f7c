-- Each API key's library (its name, or an HMAC of an unnamed key; '' is the shared library of a server without
-- keys, where everything made before keys existed stays). Jobs belong to one library; so do documents.
ALTER TABLE jobs ADD COLUMN library TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS jobs_by_library ON jobs (library, created_at);

-- Stored documents: read once, kept with their pages until deleted. source_key identifies the bytes and page
-- range sent, so the same upload again finds the same document.
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    library TEXT NOT NULL,
    title TEXT NOT NULL,
    source_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    filename TEXT,
    pages INTEGER NOT NULL,
    characters INTEGER NOT NULL,
    warnings TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS documents_by_source ON documents (library, source_key);
CREATE INDEX IF NOT EXISTS documents_by_library ON documents (library, created_at);

-- A document's pages as read (PDF pages, or ~3,000-character pages of a text), the text every quote is checked
-- against.
CREATE TABLE IF NOT EXISTS document_pages (
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    text TEXT NOT NULL,
    ocr INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (document_id, number)
);

-- Passages: a few sentences of one page each, the units retrieval finds, indexed by FTS5 (BM25).
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    position INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_by_document ON passages (document_id, page, position);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_index USING fts5(
    text, content='passages', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS passages_indexed AFTER INSERT ON passages BEGIN
    INSERT INTO passages_index (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS passages_unindexed AFTER DELETE ON passages BEGIN
    INSERT INTO passages_index (passages_index, rowid, text) VALUES ('delete', old.id, old.text);
END;

-- Titles in the same kind of index, so a library search finds a document by its title too.
CREATE VIRTUAL TABLE IF NOT EXISTS titles_index USING fts5(
    title, content='documents', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS titles_indexed AFTER INSERT ON documents BEGIN
    INSERT INTO titles_index (rowid, title) VALUES (new.rowid, new.title);
END;
CREATE TRIGGER IF NOT EXISTS titles_unindexed AFTER DELETE ON documents BEGIN
    INSERT INTO titles_index (titles_index, rowid, title) VALUES ('delete', old.rowid, old.title);
END;
CREATE TRIGGER IF NOT EXISTS titles_renamed AFTER UPDATE OF title ON documents BEGIN
    INSERT INTO titles_index (titles_index, rowid, title) VALUES ('delete', old.rowid, old.title);
    INSERT INTO titles_index (rowid, title) VALUES (new.rowid, new.title);
END;

-- Which documents a job reads: results made from a document go with it, and a question about a deleted one ends.
CREATE TABLE IF NOT EXISTS job_documents (
    job_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    PRIMARY KEY (job_id, document_id)
);
CREATE INDEX IF NOT EXISTS job_documents_by_document ON job_documents (document_id);

-- Collections: named sets of documents with standing instructions, as the context bots had.
CREATE TABLE IF NOT EXISTS collections (
    library TEXT NOT NULL,
    name TEXT NOT NULL,
    instructions TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
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
