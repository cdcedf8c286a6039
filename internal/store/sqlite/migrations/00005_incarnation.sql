-- mailboxes.incarnation names one copy of a mailbox in this database: a
-- new value each time the mailbox is created here, as a move back creates
-- it again. Delta tokens carry it, so that a token of an earlier copy
-- (whose change numbers mean other changes) is refused rather than read
-- against this copy's log. Mailboxes that exist already keep ''.

-- +goose Up
ALTER TABLE mailboxes ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE mailboxes DROP COLUMN incarnation;
