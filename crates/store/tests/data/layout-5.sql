-- Takes a new store back to layout 5: out go the datoms of the excision
-- attributes (entities 91-94) that layout 7 adds, from datoms, log and
-- attribute_stats, and the version is set back. A layout-5 bootstrap
-- wrote the same rows but those.
UPDATE attribute_stats SET datoms = datoms - (SELECT count(*) FROM datoms d
    WHERE d.a = attribute_stats.a AND d.e IN (91, 92, 93, 94));
DELETE FROM attribute_stats WHERE a IN (91, 92, 93, 94) OR datoms = 0;
DELETE FROM datoms WHERE e IN (91, 92, 93, 94);
DELETE FROM log WHERE e IN (91, 92, 93, 94);
PRAGMA user_version = 5;
