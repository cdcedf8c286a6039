-- Change tracking and mailbox moves (see package sqlstore, changes.go).
--
-- mailboxes.change_seq is the mailbox's change counter, advanced by every
-- item write in its transaction; locked refuses item writes while a move
-- switches the mailbox to another database. messages.change_seq is the
-- number of the message's last change. tombstones keeps, per folder, the
-- items that left it (deleted, or moved elsewhere) and when.
--
-- Messages that exist already are numbered 1..n per mailbox, by id, so
-- that no message has number 0 and the counter is their count.

-- +goose Up
ALTER TABLE mailboxes ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;

UPDATE messages SET change_seq = n.seq
FROM (SELECT mailbox_id, id, ROW_NUMBER() OVER (PARTITION BY mailbox_id ORDER BY id) AS seq
      FROM messages) AS n
WHERE messages.mailbox_id = n.mailbox_id AND messages.id = n.id;
UPDATE mailboxes SET change_seq =
    (SELECT COUNT(*) FROM messages WHERE messages.mailbox_id = mailboxes.id);

CREATE TABLE tombstones (
    mailbox_id TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    folder_id  TEXT    NOT NULL,
    change_seq INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, folder_id, id)
);

-- Changes of a folder and of a whole mailbox are range scans of these.
CREATE INDEX messages_folder_changes ON messages (mailbox_id, folder_id, change_seq);
CREATE INDEX messages_changes ON messages (mailbox_id, change_seq);
CREATE INDEX tombstones_folder_changes ON tombstones (mailbox_id, folder_id, change_seq);
CREATE INDEX tombstones_changes ON tombstones (mailbox_id, change_seq);
CREATE INDEX tombstones_item ON tombstones (mailbox_id, id);

-- +goose Down
DROP TABLE tombstones;
DROP INDEX messages_changes;
DROP INDEX messages_folder_changes;
ALTER TABLE messages DROP COLUMN change_seq;
ALTER TABLE mailboxes DROP COLUMN locked;
ALTER TABLE mailboxes DROP COLUMN change_seq;
