-- A finding keeps its history: the event time it first fired (re-issues move event_time forward)
-- and how many times it was issued. Rows written before have one known issue: theirs.
ALTER TABLE findings ADD COLUMN IF NOT EXISTS first_fired_time DateTime64(3, 'UTC') DEFAULT event_time;
ALTER TABLE findings ADD COLUMN IF NOT EXISTS update_count UInt32 DEFAULT 1;

-- An incident's group window runs in event time, from the event time of its latest finding.
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS last_event_time DateTime64(3, 'UTC') DEFAULT opened_time;
