-- A resolution the customer turned down ("I need more") no longer stands: since this version
-- `resolved_at` is cleared when a complaint leaves resolved for an open status. Complaints reopened
-- before that still carry the old time, which reports would count as the resolution: clear it
-- wherever the last "reopened" status line comes after the last "resolved" one.
UPDATE complaints SET resolved_at = NULL
 WHERE resolved_at IS NOT NULL
   AND (SELECT MAX(e.seq) FROM complaint_entries e
         WHERE e.complaint_id = complaints.id AND e.kind = 'status' AND e.body = 'reopened')
     > COALESCE((SELECT MAX(e.seq) FROM complaint_entries e
                  WHERE e.complaint_id = complaints.id AND e.kind = 'status' AND e.body = 'resolved'), 0);
