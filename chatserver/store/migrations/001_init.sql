-- Console users, customers, conversations, messages, complaints, routing log, audit trail.
-- Ids are opaque random strings; times are ISO 8601 UTC text ending in Z.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL,
    max_chats INTEGER NOT NULL DEFAULT 3 CHECK (max_chats >= 0),
    skills TEXT NOT NULL DEFAULT '[]',
    languages TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'away', 'offline')),
    status_since TEXT NOT NULL,
    last_assigned_at TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    -- bumped on password, role or activity change: sessions of an older generation are dead
    session_generation INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE console_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    generation INTEGER NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions(user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE categories (
    slug TEXT PRIMARY KEY,
    position INTEGER NOT NULL DEFAULT 0,
    name_en TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_pl TEXT NOT NULL,
    first_response_hours REAL NOT NULL DEFAULT 24,
    resolution_hours REAL NOT NULL DEFAULT 48,
    owner_group TEXT NOT NULL DEFAULT 'support',
    active INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    -- sha256 of the server-minted token; the token itself is never stored
    token_hash TEXT NOT NULL UNIQUE,
    external_id TEXT UNIQUE,
    name TEXT,
    email TEXT,
    locale TEXT NOT NULL DEFAULT 'en',
    verified INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL CHECK (status IN ('queued', 'active', 'closed')),
    topic TEXT,
    locale TEXT NOT NULL DEFAULT 'en',
    priority INTEGER NOT NULL DEFAULT 0,
    agent_id TEXT REFERENCES users(id),
    created_at TEXT NOT NULL,
    queued_at TEXT,
    -- absolute time a queued chat becomes a complaint; survives restarts
    wait_deadline TEXT,
    assigned_at TEXT,
    first_response_at TEXT,
    closed_at TEXT,
    outcome TEXT CHECK (outcome IN ('resolved', 'complaint', 'abandoned')),
    complaint_id TEXT,
    last_seq INTEGER NOT NULL DEFAULT 0
);
-- one open conversation per customer, whatever races happen
CREATE UNIQUE INDEX conversations_one_open ON conversations(customer_id) WHERE status != 'closed';
CREATE INDEX conversations_status ON conversations(status, agent_id);
CREATE INDEX conversations_customer ON conversations(customer_id, created_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL,
    sender TEXT NOT NULL CHECK (sender IN ('customer', 'agent', 'system')),
    author TEXT NOT NULL,
    author_id TEXT,
    body TEXT NOT NULL,
    internal INTEGER NOT NULL DEFAULT 0,
    client_id TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, client_id)
);

-- keeps conversations.last_seq (and the first agent answer) current in the inserting statement
CREATE TRIGGER messages_bump_seq AFTER INSERT ON messages
BEGIN
    UPDATE conversations
       SET last_seq = NEW.seq,
           first_response_at = CASE
               WHEN first_response_at IS NULL AND NEW.sender = 'agent' AND NEW.internal = 0 THEN NEW.created_at
               ELSE first_response_at END
     WHERE id = NEW.conversation_id;
END;

CREATE TABLE complaint_counters (
    year INTEGER PRIMARY KEY,
    last_number INTEGER NOT NULL
);

CREATE TABLE complaints (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    -- a chat yields at most one complaint
    conversation_id TEXT UNIQUE REFERENCES conversations(id),
    customer_id TEXT REFERENCES customers(id),
    category TEXT NOT NULL REFERENCES categories(slug),
    subject TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'chat',
    status TEXT NOT NULL DEFAULT 'new',
    level INTEGER NOT NULL DEFAULT 1,
    email TEXT,
    created_at TEXT NOT NULL,
    first_response_due TEXT NOT NULL,
    resolution_due TEXT NOT NULL,
    first_response_at TEXT,
    resolved_at TEXT
);
CREATE INDEX complaints_customer ON complaints(customer_id, created_at);
CREATE INDEX complaints_status ON complaints(status, resolution_due);

CREATE TABLE routing_decisions (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    decided_at TEXT NOT NULL,
    chosen_agent_id TEXT,
    rule TEXT NOT NULL,
    candidates TEXT NOT NULL
);
CREATE INDEX routing_decisions_conversation ON routing_decisions(conversation_id, decided_at);

CREATE TABLE ratings (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_subject ON audit_events(subject, at);
