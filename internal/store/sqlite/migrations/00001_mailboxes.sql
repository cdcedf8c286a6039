-- The first schema of a mailbox database: mailboxes, their mail folders,
-- their messages and the outbound mail-flow queue.
--
-- Message columns other than mailbox_id, id, folder_id, change_key, doc and
-- mime are the columns of schema.Message, named as there; a test checks that
-- every schema column exists here. Strings compare without case (Graph's
-- $filter eq and $orderby on text ignore case), except ids, which are
-- case-sensitive base64url.

-- +goose Up
CREATE TABLE mailboxes (
    id           TEXT NOT NULL PRIMARY KEY,
    address      TEXT NOT NULL COLLATE NOCASE,
    display_name TEXT NOT NULL DEFAULT ''
);

CREATE TABLE folders (
    mailbox_id   TEXT    NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    id           TEXT    NOT NULL,
    parent_id    TEXT    NOT NULL DEFAULT '',
    display_name TEXT    NOT NULL COLLATE NOCASE,
    well_known   TEXT    NOT NULL DEFAULT '',
    is_hidden    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mailbox_id, id)
);

-- Child listing and childFolderCount. Exchange also refuses two sibling
-- folders with the same name (ErrorFolderExists).
CREATE UNIQUE INDEX folders_sibling_name ON folders (mailbox_id, parent_id, display_name);
CREATE UNIQUE INDEX folders_well_known ON folders (mailbox_id, well_known)
    WHERE well_known <> '';

CREATE TABLE messages (
    mailbox_id          TEXT    NOT NULL,
    id                  TEXT    NOT NULL,
    folder_id           TEXT    NOT NULL,
    change_key          TEXT    NOT NULL,
    doc                 TEXT    NOT NULL,
    mime                BLOB,
    created             TEXT,
    modified            TEXT,
    received            TEXT,
    sent                TEXT,
    subject             TEXT COLLATE NOCASE,
    from_address        TEXT COLLATE NOCASE,
    from_name           TEXT COLLATE NOCASE,
    sender_address      TEXT COLLATE NOCASE,
    sender_name         TEXT COLLATE NOCASE,
    is_read             INTEGER,
    is_draft            INTEGER,
    has_attachments     INTEGER,
    importance          TEXT COLLATE NOCASE,
    inference           TEXT COLLATE NOCASE,
    flag_status         TEXT COLLATE NOCASE,
    internet_message_id TEXT COLLATE NOCASE,
    conversation_id     TEXT,
    PRIMARY KEY (mailbox_id, id),
    FOREIGN KEY (mailbox_id, folder_id) REFERENCES folders (mailbox_id, id)
);

-- "The 25 newest in a folder" and "the newest in the mailbox" are range
-- scans of these indexes in order, with no sort step. The first also
-- serves totalItemCount and the foreign key check.
CREATE INDEX messages_folder_received
    ON messages (mailbox_id, folder_id, received DESC, id DESC);
CREATE INDEX messages_received ON messages (mailbox_id, received DESC, id DESC);
-- unreadItemCount, counted from the index alone.
CREATE INDEX messages_folder_unread ON messages (mailbox_id, folder_id, is_read);
CREATE INDEX messages_conversation ON messages (mailbox_id, conversation_id);

-- Mail for the other premises, waiting for the queue worker.
CREATE TABLE outbound (
    id           TEXT    NOT NULL PRIMARY KEY,
    sender       TEXT    NOT NULL,
    recipients   TEXT    NOT NULL, -- JSON array of addresses
    mime         BLOB    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL, -- Unix milliseconds
    last_error   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbound_due ON outbound (next_attempt, id);

-- +goose Down
DROP TABLE outbound;
DROP TABLE messages;
DROP TABLE folders;
DROP TABLE mailboxes;
