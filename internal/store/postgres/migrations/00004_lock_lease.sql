-- A move's lock is a lease: mailboxes.lock_until is the time (milliseconds
-- since 1970, by the database's clock) until which item writes are refused.
-- A move renews it while it works, so a move whose process died stops
-- refusing writes once its lease runs out, and a resume takes it again.
-- A mailbox locked before this migration stays locked.

-- +goose Up
ALTER TABLE mailboxes ADD COLUMN lock_until bigint NOT NULL DEFAULT 0;
UPDATE mailboxes SET lock_until = 9223372036854775807 WHERE locked;
ALTER TABLE mailboxes DROP COLUMN locked;

-- +goose Down
ALTER TABLE mailboxes ADD COLUMN locked boolean NOT NULL DEFAULT false;
UPDATE mailboxes SET locked = true
WHERE lock_until > (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
ALTER TABLE mailboxes DROP COLUMN lock_until;
