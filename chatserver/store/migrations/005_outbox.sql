-- Notices owed to people (e-mail today), written in the same transaction as the change they
-- report, so a crash can neither lose one nor send one for a change that never committed.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT 'en',
    complaint_id TEXT,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    sent_at TEXT,
    -- 'pending' until delivered, 'sent', or 'failed' after the last retry
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed'))
);
CREATE INDEX outbox_pending ON outbox(state, next_attempt_at);
