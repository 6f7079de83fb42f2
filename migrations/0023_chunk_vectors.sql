-- Dense retrieval for file search (issue 19), when an embeddings endpoint is configured: each
-- chunk of a document uploaded for file search (the chunks of `files.text`, cut as the search
-- index cuts them) gets a vector from the configured model, stored here as f32 little-endian,
-- normalized to unit length, with the chunk's page and text for the results. The owner is
-- the file's (`user_id`), for scoping and billing.
CREATE TABLE chunk_vectors (
    file_id TEXT NOT NULL REFERENCES files (file_id) ON DELETE CASCADE,
    -- The chunk's number in the file, from 0, in document order.
    chunk   INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    model   TEXT NOT NULL,
    dims    INTEGER NOT NULL,
    page    INTEGER,
    text    TEXT NOT NULL,
    vector  BLOB NOT NULL,
    PRIMARY KEY (file_id, chunk)
) STRICT;

-- A file whose every chunk has a vector of `model`: the embedding worker's work is the files
-- uploaded for file search without such a row (so a restart resumes where it stopped, and a
-- change of model embeds everything again). `id` changes whenever the row is made again, so
-- vectors kept in memory are known to be stale.
CREATE TABLE file_vectors (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id TEXT NOT NULL UNIQUE REFERENCES files (file_id) ON DELETE CASCADE,
    model   TEXT NOT NULL,
    chunks  INTEGER NOT NULL
) STRICT;

-- The worker's question: the documents uploaded for file search, oldest first.
CREATE INDEX files_for_file_search ON files (created_at, file_id) WHERE embedded = 1;

-- A document whose text changes (or that is no longer searched) loses its vectors, and is
-- embedded again when it is searched.
CREATE TRIGGER chunk_vectors_file_changed AFTER UPDATE OF text, embedded ON files
WHEN OLD.text IS NOT NEW.text OR OLD.embedded IS NOT NEW.embedded
BEGIN
    DELETE FROM chunk_vectors WHERE file_id = NEW.file_id;
    DELETE FROM file_vectors WHERE file_id = NEW.file_id;
END;
