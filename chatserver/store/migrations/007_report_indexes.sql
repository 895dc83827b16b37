-- Reports read one period at a time (store/reports.py).
-- By creation time, with the id: a period's rows in order, and the exports' keyset pages (created_at, id).
CREATE INDEX complaints_created ON complaints(created_at, id);
CREATE INDEX conversations_created ON conversations(created_at, id);
-- By category (chats: topic), then time: counts per category per day or week are index range counts,
-- no sorting; a report filtered by category reads only that category.
CREATE INDEX complaints_category_created ON complaints(category, created_at);
CREATE INDEX conversations_topic_created ON conversations(topic, created_at);
-- Approved compensation by decision time.
CREATE INDEX compensations_decided ON compensations(status, decided_at);
-- Reopenings are status lines in the thread; only these few rows are indexed.
CREATE INDEX complaint_entries_reopened ON complaint_entries(complaint_id) WHERE kind = 'status' AND body = 'reopened';
