-- Uploaded files (LibreChat's `File` collection, `TFile`). The bytes live in the data folder's
-- `files/` under `storage_key`, a name made here (never the uploader's); `filename` is the
-- uploader's name, for display only.
CREATE TABLE files (
    -- Made by the server on upload; `temp_file_id` is the id the client sent with the upload.
    file_id         TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    temp_file_id    TEXT,
    filename        TEXT NOT NULL,
    -- Where clients fetch it: `/images/{user}/{file}` for images, a download URL otherwise.
    filepath        TEXT NOT NULL,
    storage_key     TEXT NOT NULL UNIQUE,
    bytes           INTEGER NOT NULL,
    -- Its media type, as found in its bytes.
    type            TEXT NOT NULL,
    width           INTEGER,
    height          INTEGER,
    -- LibreChat's FileSources: `local` (stored here) or `text` (read as text for the model).
    source          TEXT NOT NULL DEFAULT 'local',
    -- LibreChat's FileContext: `message_attachment`, `avatar`, `image_generation`, ...
    context         TEXT,
    usage           INTEGER NOT NULL DEFAULT 0,
    conversation_id TEXT,
    message_id      TEXT,
    -- The text read out of a document, given to the model.
    text            TEXT,
    embedded        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;

CREATE INDEX files_by_user ON files (user_id, updated_at);
CREATE INDEX files_by_conversation ON files (conversation_id) WHERE conversation_id IS NOT NULL;
-- The sweeper's question: uploads never attached to a message, oldest first.
CREATE INDEX files_unattached ON files (created_at) WHERE message_id IS NULL;
