-- The complaint lifecycle: who owns a complaint, the answer it is owed, its thread,
-- compensation decisions, the satisfaction rating and the SLA notices already fired.

-- the next answer owed to the customer; NULL when none is owed (first_response_due stays the historical first target)
ALTER TABLE complaints ADD COLUMN response_due TEXT;
-- who owns it at its level: the category's group at level 1, then supervisors, then management
ALTER TABLE complaints ADD COLUMN owner_group TEXT;
ALTER TABLE complaints ADD COLUMN assignee_id TEXT REFERENCES users(id);
-- contact details for complaints without a widget customer (logged by an agent from e-mail or phone)
ALTER TABLE complaints ADD COLUMN customer_name TEXT;
ALTER TABLE complaints ADD COLUMN locale TEXT;
ALTER TABLE complaints ADD COLUMN closed_at TEXT;
ALTER TABLE complaints ADD COLUMN updated_at TEXT;
ALTER TABLE complaints ADD COLUMN last_public_at TEXT;
ALTER TABLE complaints ADD COLUMN rating INTEGER CHECK (rating BETWEEN 1 AND 5);
ALTER TABLE complaints ADD COLUMN rating_comment TEXT;
ALTER TABLE complaints ADD COLUMN rated_at TEXT;

-- complaints made before this migration: nothing answered them yet, so their first answer is still owed
UPDATE complaints
   SET response_due = CASE WHEN first_response_at IS NULL AND status NOT IN ('resolved', 'closed') THEN first_response_due END,
       owner_group = COALESCE((SELECT owner_group FROM categories WHERE slug = complaints.category), 'support'),
       updated_at = created_at,
       last_public_at = created_at;

CREATE INDEX complaints_response_due ON complaints(status, response_due);
CREATE INDEX complaints_assignee ON complaints(assignee_id, status);

-- The thread. Customers see 'customer', 'reply' and 'status' entries; 'note' and 'system' are staff only.
CREATE TABLE complaint_entries (
    id TEXT PRIMARY KEY,
    complaint_id TEXT NOT NULL REFERENCES complaints(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('customer', 'reply', 'note', 'status', 'system')),
    author TEXT NOT NULL,
    author_id TEXT,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (complaint_id, seq)
);

CREATE TABLE compensations (
    id TEXT PRIMARY KEY,
    complaint_id TEXT NOT NULL REFERENCES complaints(id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'rejected')),
    proposed_by TEXT NOT NULL REFERENCES users(id),
    proposed_at TEXT NOT NULL,
    decided_by TEXT REFERENCES users(id),
    decided_at TEXT,
    decision_note TEXT,
    -- nobody decides their own proposal
    CHECK (decided_by IS NULL OR decided_by != proposed_by)
);
CREATE INDEX compensations_complaint ON compensations(complaint_id, proposed_at);

-- One row per warning or breach acted on: the sweep inserts before it acts, so each fires once.
CREATE TABLE sla_notices (
    complaint_id TEXT NOT NULL REFERENCES complaints(id),
    kind TEXT NOT NULL CHECK (kind IN ('warning', 'breach')),
    target TEXT NOT NULL CHECK (target IN ('response', 'resolution')),
    due_at TEXT NOT NULL,
    fired_at TEXT NOT NULL,
    PRIMARY KEY (complaint_id, kind, target, due_at)
);
