-- While the team waits for the customer's answer the resolution clock stands still: `paused_at` is
-- when the complaint began waiting. When it moves on, its resolution due time moves out by the time
-- waited (one already missed when the wait began stays as it was). A question nobody answers closes
-- the complaint after the auto-close period, counted from here.
ALTER TABLE complaints ADD COLUMN paused_at TEXT;
-- complaints waiting now: from their last change, which is when the question was most likely asked
UPDATE complaints SET paused_at = COALESCE(updated_at, created_at) WHERE status = 'awaiting_customer';
CREATE INDEX complaints_paused_at ON complaints(paused_at) WHERE paused_at IS NOT NULL;
