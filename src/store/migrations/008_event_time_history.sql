-- A finding keeps its history: the event time it first fired (re-issues move event_time forward)
-- and how many times it was issued. An incident's group window runs in event time, from the event
-- time of its latest finding. No DEFAULT expressions: the audit chain digests only columns whose
-- default is the type's zero (others are taken as the server's), and zero leaves the digests of
-- rows stored before unchanged. Rows stored before read as zero; the readers (rows.ts) take them as
-- one issue that first fired at its event time, and an incident's latest finding as its opening.
ALTER TABLE findings ADD COLUMN IF NOT EXISTS first_fired_time DateTime64(3, 'UTC');
ALTER TABLE findings ADD COLUMN IF NOT EXISTS update_count UInt32;

ALTER TABLE incidents ADD COLUMN IF NOT EXISTS last_event_time DateTime64(3, 'UTC');
