-- What admins change while the server runs. A key stored here overrides the configured setting of
-- the same name until it is reset; values are JSON.
CREATE TABLE runtime_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Secrets for verifying host-signed customer identities. The one not retired verifies (it must stay
-- readable for HMAC); a rotation retires it and erases its value, so old signatures stop working.
CREATE TABLE identity_secrets (
    id TEXT PRIMARY KEY,
    secret TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    retired_at TEXT,
    retired_by TEXT
);
-- at most one current secret, whatever races happen
CREATE UNIQUE INDEX identity_secrets_one_current ON identity_secrets((retired_at IS NULL)) WHERE retired_at IS NULL;

CREATE INDEX api_tokens_user ON api_tokens(user_id, created_at);
