-- Outbound webhooks: receivers an admin registered, and one delivery row per event and receiver.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- JSON array of the public event names it receives
    events TEXT NOT NULL,
    -- the HMAC key; kept in clear because every delivery is signed with it, shown to people only once
    secret TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT,
    updated_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event TEXT NOT NULL,
    -- the exact body: every attempt sends and signs the same bytes
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- 'pending' until a 2xx answer, 'delivered', or 'failed' after the last retry
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_attempt_at TEXT,
    last_status INTEGER,
    last_error TEXT,
    last_duration_ms INTEGER,
    delivered_at TEXT
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, created_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at);
