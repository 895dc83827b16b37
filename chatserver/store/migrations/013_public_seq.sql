-- Customers see their chat numbered without the staff-only notes: `public_seq` counts the messages a
-- customer may see, 1, 2, 3 ..., so a gap in what they are sent means they missed something, and no
-- gap tells them a note was written. Staff keep `seq`, which counts every message.
ALTER TABLE messages ADD COLUMN public_seq INTEGER;
ALTER TABLE conversations ADD COLUMN last_public_seq INTEGER NOT NULL DEFAULT 0;

CREATE TEMP TABLE numbered (id TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT INTO numbered
    SELECT id, ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY seq) FROM messages WHERE internal = 0;
UPDATE messages SET public_seq = (SELECT n FROM numbered WHERE numbered.id = messages.id) WHERE internal = 0;
DROP TABLE numbered;
UPDATE conversations
   SET last_public_seq = COALESCE((SELECT MAX(public_seq) FROM messages WHERE conversation_id = conversations.id), 0);

CREATE UNIQUE INDEX messages_public_seq ON messages(conversation_id, public_seq) WHERE public_seq IS NOT NULL;

-- keeps both counters (and the first agent answer) current in the inserting statement
DROP TRIGGER messages_bump_seq;
CREATE TRIGGER messages_bump_seq AFTER INSERT ON messages
BEGIN
    UPDATE conversations
       SET last_seq = NEW.seq,
           last_public_seq = COALESCE(NEW.public_seq, last_public_seq),
           first_response_at = CASE
               WHEN first_response_at IS NULL AND NEW.sender = 'agent' AND NEW.internal = 0 THEN NEW.created_at
               ELSE first_response_at END
     WHERE id = NEW.conversation_id;
END;
