-- A move's lock is a lease: mailboxes.lock_until is the time (milliseconds
-- since 1970) until which item writes are refused. A move renews it while
-- it works, so a move whose process died stops refusing writes once its
-- lease runs out, and a resume takes it again. A mailbox locked before
-- this migration stays locked.

-- +goose Up
ALTER TABLE mailboxes ADD COLUMN lock_until INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET lock_until = 9223372036854775807 WHERE locked <> 0;
ALTER TABLE mailboxes DROP COLUMN locked;

-- +goose Down
ALTER TABLE mailboxes ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET locked = 1
WHERE lock_until > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);
ALTER TABLE mailboxes DROP COLUMN lock_until;
