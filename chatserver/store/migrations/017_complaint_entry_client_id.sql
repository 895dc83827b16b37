-- A reply, question, note or resolution may carry the id its writer's page made for it before the
-- first try: when the answer was lost on the way back and the page tries again, that id finds what
-- was already written instead of writing (and e-mailing the customer) a second time.
ALTER TABLE complaint_entries ADD COLUMN client_id TEXT;

CREATE UNIQUE INDEX complaint_entries_client_id ON complaint_entries(complaint_id, client_id) WHERE client_id IS NOT NULL;
