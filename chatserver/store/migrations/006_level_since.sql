-- When the complaint reached its current level: a breach escalates only if its due time passed
-- while the current owners held it (NULL: since creation).
ALTER TABLE complaints ADD COLUMN level_since TEXT;
