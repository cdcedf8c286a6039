-- The ids of outbound messages delivered and dequeued, kept for a day: a
-- send finished again after a crash queues its message under the same id
-- (derived from its Outbox item), and Enqueue refuses an id delivered
-- already, so that the message does not leave twice.

-- +goose Up
CREATE TABLE outbound_done (
    id      TEXT    NOT NULL PRIMARY KEY,
    done_at INTEGER NOT NULL -- Unix milliseconds
);
CREATE INDEX outbound_done_at ON outbound_done (done_at);

-- +goose Down
DROP TABLE outbound_done;
