-- The site banner (LibreChat's single Banner document): a message shown at the top of the app
-- between two dates, to everyone (`is_public`, also signed out) or to signed-in users.
-- `banner_id` is derived from the message, so a dismissal is remembered per message.
CREATE TABLE banner (
    -- Always 1: there is at most one banner.
    slot         INTEGER PRIMARY KEY CHECK (slot = 1),
    banner_id    TEXT NOT NULL,
    message      TEXT NOT NULL,
    display_from TEXT NOT NULL,
    -- NULL: until removed.
    display_to   TEXT,
    type         TEXT NOT NULL DEFAULT 'banner' CHECK (type IN ('banner', 'popup')),
    is_public    INTEGER NOT NULL DEFAULT 0 CHECK (is_public IN (0, 1)),
    persistable  INTEGER NOT NULL DEFAULT 0 CHECK (persistable IN (0, 1)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
