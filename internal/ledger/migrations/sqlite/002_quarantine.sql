-- Messages a source could not turn into events (undecodable, too large),
-- kept with the reason so an operator can see and replay them. One row
-- per message: a message received again counts on its row.

CREATE TABLE quarantine (
    id         TEXT PRIMARY KEY,
    source     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    reason     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    UNIQUE (source, message_id)
);
CREATE INDEX quarantine_last_seen ON quarantine (last_seen, id);
