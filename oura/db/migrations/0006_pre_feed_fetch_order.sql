-- Feeds: when each version's download started, so that of two ingestions of one network that
-- fetched different contents at the same moment, the newer download serves whichever commits
-- last; the other is recorded as `superseded` (valid or not, it was not published: newer content
-- serves). Versions recorded before this migration take their fetch time as their start.

ALTER TABLE feed_versions
    ADD COLUMN fetch_started_at timestamptz,
    DROP CONSTRAINT feed_versions_status_check,
    ADD CONSTRAINT feed_versions_status_check CHECK (status IN ('accepted', 'rejected', 'superseded'));

UPDATE feed_versions SET fetch_started_at = fetched_at;

ALTER TABLE feed_versions ALTER COLUMN fetch_started_at SET NOT NULL;
