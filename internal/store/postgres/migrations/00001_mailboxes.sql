-- The first schema of a mailbox database on PostgreSQL: the same tables,
-- columns and indexes as the SQLite backend's first migration.
--
-- Text that Graph compares without case is citext with the "C" collation:
-- citext lower-cases both sides with the column's collation before it
-- compares, and under "C" that folds ASCII letters only and then orders by
-- byte, which is what SQLite's NOCASE does
-- (https://www.postgresql.org/docs/15/citext.html,
-- https://www.sqlite.org/datatype3.html#collating_sequences). citext also
-- makes LIKE ignore case, as SQLite's LIKE does for ASCII. Ids and times
-- are text with the "C" collation: ids are case-sensitive base64url and
-- times are fixed-width UTC text, so byte order is their order, and
-- indexes do not depend on the cluster's locale.
--
-- Orderings put NULL first ascending and last descending, as SQLite does,
-- so the ordered indexes say NULLS LAST on their descending keys.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE mailboxes (
    id           text   COLLATE "C" NOT NULL PRIMARY KEY,
    address      citext COLLATE "C" NOT NULL,
    display_name text   NOT NULL DEFAULT ''
);

CREATE TABLE folders (
    mailbox_id   text    COLLATE "C" NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    id           text    COLLATE "C" NOT NULL,
    parent_id    text    COLLATE "C" NOT NULL DEFAULT '',
    display_name citext  COLLATE "C" NOT NULL,
    well_known   text    COLLATE "C" NOT NULL DEFAULT '',
    is_hidden    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (mailbox_id, id)
);

-- Child listing and childFolderCount. Exchange also refuses two sibling
-- folders with the same name (ErrorFolderExists).
CREATE UNIQUE INDEX folders_sibling_name ON folders (mailbox_id, parent_id, display_name);
CREATE UNIQUE INDEX folders_well_known ON folders (mailbox_id, well_known)
    WHERE well_known <> '';

CREATE TABLE messages (
    mailbox_id          text    COLLATE "C" NOT NULL,
    id                  text    COLLATE "C" NOT NULL,
    folder_id           text    COLLATE "C" NOT NULL,
    change_key          text    COLLATE "C" NOT NULL,
    doc                 text    NOT NULL,
    mime                bytea,
    created             text    COLLATE "C",
    modified            text    COLLATE "C",
    received            text    COLLATE "C",
    sent                text    COLLATE "C",
    subject             citext  COLLATE "C",
    from_address        citext  COLLATE "C",
    from_name           citext  COLLATE "C",
    sender_address      citext  COLLATE "C",
    sender_name         citext  COLLATE "C",
    is_read             boolean,
    is_draft            boolean,
    has_attachments     boolean,
    importance          citext  COLLATE "C",
    inference           citext  COLLATE "C",
    flag_status         citext  COLLATE "C",
    internet_message_id citext  COLLATE "C",
    conversation_id     text    COLLATE "C",
    PRIMARY KEY (mailbox_id, id),
    FOREIGN KEY (mailbox_id, folder_id) REFERENCES folders (mailbox_id, id)
);

-- "The 25 newest in a folder" and "the newest in the mailbox" are range
-- scans of these indexes in order (backwards for the oldest), with no sort
-- step. The first also serves totalItemCount and the foreign key check.
CREATE INDEX messages_folder_received ON messages
    (mailbox_id, folder_id, received DESC NULLS LAST, id DESC NULLS LAST);
CREATE INDEX messages_received ON messages
    (mailbox_id, received DESC NULLS LAST, id DESC NULLS LAST);
-- unreadItemCount, counted from the index alone.
CREATE INDEX messages_folder_unread ON messages (mailbox_id, folder_id, is_read);
CREATE INDEX messages_conversation ON messages (mailbox_id, conversation_id);

-- Mail for the other premises, waiting for the queue worker. A worker
-- claims the messages it takes until claimed_until, so that two gateways
-- never hand out the same message at once.
CREATE TABLE outbound (
    id            text    COLLATE "C" NOT NULL PRIMARY KEY,
    sender        text    NOT NULL,
    recipients    text    NOT NULL, -- JSON array of addresses
    mime          bytea   NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    next_attempt  bigint  NOT NULL, -- Unix milliseconds
    claimed_until bigint  NOT NULL DEFAULT 0, -- Unix milliseconds
    last_error    text    NOT NULL DEFAULT ''
);
CREATE INDEX outbound_due ON outbound (next_attempt, id);

-- +goose Down
DROP TABLE outbound;
DROP TABLE messages;
DROP TABLE folders;
DROP TABLE mailboxes;
