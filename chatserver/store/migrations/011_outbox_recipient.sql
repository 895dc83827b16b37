-- Counting the acknowledgements one address got lately (domain/complaints.py) reads by recipient,
-- in any letter case, and by time.
CREATE INDEX outbox_recipient ON outbox(recipient COLLATE NOCASE, kind, created_at);
