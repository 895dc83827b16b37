-- What complaint search looks in (reference, subject, the customer's description), folded once when
-- the complaint is written: LIKE folds ASCII letters only, and folding every row at each search would
-- cost a Python call per complaint on the connection chat's reads share. Subject and body never change
-- after creation. searchable() (composed, case-folded: domain/text.py) is the server's own SQL
-- function (`SQL_FUNCTIONS` in store/db.py), added to every connection it opens.
CREATE TABLE complaint_search (
    complaint_id TEXT PRIMARY KEY REFERENCES complaints(id) ON DELETE CASCADE,
    folded TEXT NOT NULL
);

INSERT INTO complaint_search (complaint_id, folded)
SELECT id, searchable(reference || char(10) || subject || char(10) || COALESCE(body, '')) FROM complaints;
