-- A complaint filed from the widget's form or logged by staff may carry the id its sender's page made
-- for it before the first try: when the answer was lost on the way back (a timeout, a dropped
-- connection) and the page tries again, that id finds the complaint already filed instead of filing,
-- and acknowledging by e-mail, a second one. `author` is the customer or user who sent it.
CREATE TABLE complaint_requests (
    client_id TEXT PRIMARY KEY,
    author TEXT NOT NULL,
    complaint_id TEXT NOT NULL REFERENCES complaints(id) ON DELETE CASCADE
);
