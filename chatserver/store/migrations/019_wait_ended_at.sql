-- When the chat's latest wait in the queue ended: an agent took it from the queue. assigned_at is
-- when its current agent got it, which a transfer moves on: waits measured up to assigned_at counted
-- the whole conversation before a transfer as time in the queue. A chat handed back to the queue
-- starts a new wait (queued_at) and has none ended until an agent takes it again.
ALTER TABLE conversations ADD COLUMN wait_ended_at TEXT;
-- the best known for chats from before: transferred ones cannot be told apart
UPDATE conversations SET wait_ended_at = assigned_at WHERE assigned_at IS NOT NULL;
