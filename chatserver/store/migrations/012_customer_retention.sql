-- Anonymous customers are made at every connect without a token; the ones that never chatted or
-- filed a complaint are removed after a day, walked oldest first by this index.
CREATE INDEX customers_anonymous_by_age ON customers(created_at, id) WHERE external_id IS NULL;
