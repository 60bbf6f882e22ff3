-- The outlook's streaks read a year of verdicts per quota meter. Summing them from the
-- daily rows costs a row per day on every uncached outlook; this table keeps them summed
-- as the rows change: per meter and chunk of 62 days, which days stayed within their
-- budget and which went over, as bit masks (bit i is day chunk * 62 + i). Triggers keep it
-- in step with daily_rollups, whichever statement writes the rows. The verdict mirrors
-- `DayRecord::within_budget`, tolerance included; a day without usage or budget is in
-- neither mask.
CREATE TABLE verdict_chunks (
    meter_id    INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    chunk       INTEGER NOT NULL,           -- local day / 62
    within_bits INTEGER NOT NULL,
    over_bits   INTEGER NOT NULL,
    PRIMARY KEY (meter_id, chunk)
) WITHOUT ROWID;

CREATE TRIGGER daily_rollups_verdict_insert AFTER INSERT ON daily_rollups BEGIN
    INSERT INTO verdict_chunks (meter_id, chunk, within_bits, over_bits)
    VALUES (NEW.meter_id, NEW.day / 62,
            CASE WHEN NEW.usage <= NEW.budget * 1.000000001 + 0.000000001 THEN 1 << (NEW.day % 62) ELSE 0 END,
            CASE WHEN NEW.usage > NEW.budget * 1.000000001 + 0.000000001 THEN 1 << (NEW.day % 62) ELSE 0 END)
    ON CONFLICT (meter_id, chunk) DO UPDATE SET
        within_bits = (within_bits & ~(1 << (NEW.day % 62))) | excluded.within_bits,
        over_bits = (over_bits & ~(1 << (NEW.day % 62))) | excluded.over_bits;
END;

-- An update sets the day's bit exactly as an insert does (SQLite has no trigger for both):
-- the same upsert, so it holds even if the chunk's row is missing.
CREATE TRIGGER daily_rollups_verdict_update AFTER UPDATE OF usage, budget ON daily_rollups BEGIN
    INSERT INTO verdict_chunks (meter_id, chunk, within_bits, over_bits)
    VALUES (NEW.meter_id, NEW.day / 62,
            CASE WHEN NEW.usage <= NEW.budget * 1.000000001 + 0.000000001 THEN 1 << (NEW.day % 62) ELSE 0 END,
            CASE WHEN NEW.usage > NEW.budget * 1.000000001 + 0.000000001 THEN 1 << (NEW.day % 62) ELSE 0 END)
    ON CONFLICT (meter_id, chunk) DO UPDATE SET
        within_bits = (within_bits & ~(1 << (NEW.day % 62))) | excluded.within_bits,
        over_bits = (over_bits & ~(1 << (NEW.day % 62))) | excluded.over_bits;
END;

CREATE TRIGGER daily_rollups_verdict_delete AFTER DELETE ON daily_rollups BEGIN
    UPDATE verdict_chunks SET
        within_bits = within_bits & ~(1 << (OLD.day % 62)),
        over_bits = over_bits & ~(1 << (OLD.day % 62))
    WHERE meter_id = OLD.meter_id AND chunk = OLD.day / 62;
END;

INSERT INTO verdict_chunks (meter_id, chunk, within_bits, over_bits)
SELECT meter_id, day / 62,
       SUM(CASE WHEN usage <= budget * 1.000000001 + 0.000000001 THEN 1 << (day % 62) ELSE 0 END),
       SUM(CASE WHEN usage > budget * 1.000000001 + 0.000000001 THEN 1 << (day % 62) ELSE 0 END)
FROM daily_rollups GROUP BY meter_id, day / 62;
