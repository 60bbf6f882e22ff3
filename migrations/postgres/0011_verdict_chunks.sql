-- The outlook's streaks read a year of verdicts per quota meter. Summing them from the
-- daily rows read a row per day on every uncached outlook (1.2 of its 3.6 ms at p50 on
-- PostgreSQL). This table keeps them summed as the rows change: per meter and chunk of
-- 62 days, which days stayed within their budget and which went over, as bit masks (bit
-- i is day chunk * 62 + i). A trigger keeps it in step with daily_rollups, whichever
-- statement writes the rows. The verdict mirrors `DayRecord::within_budget`, tolerance
-- included; a day without usage or budget is in neither mask.
CREATE TABLE verdict_chunks (
    meter_id    BIGINT NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
    chunk       BIGINT NOT NULL,            -- local day / 62
    within_bits BIGINT NOT NULL,
    over_bits   BIGINT NOT NULL,
    PRIMARY KEY (meter_id, chunk)
);

CREATE FUNCTION daily_rollups_verdict() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    day_bit BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        day_bit := CAST(1 AS BIGINT) << CAST(OLD.day % 62 AS INTEGER);
        UPDATE verdict_chunks
           SET within_bits = within_bits & ~day_bit, over_bits = over_bits & ~day_bit
         WHERE meter_id = OLD.meter_id AND chunk = OLD.day / 62;
        RETURN NULL;
    END IF;
    -- Rows are only ever upserted in place: an update keeps its key.
    day_bit := CAST(1 AS BIGINT) << CAST(NEW.day % 62 AS INTEGER);
    INSERT INTO verdict_chunks AS v (meter_id, chunk, within_bits, over_bits)
    VALUES (NEW.meter_id, NEW.day / 62,
            CASE WHEN NEW.usage <= NEW.budget * 1.000000001 + 0.000000001 THEN day_bit ELSE 0 END,
            CASE WHEN NEW.usage > NEW.budget * 1.000000001 + 0.000000001 THEN day_bit ELSE 0 END)
    ON CONFLICT (meter_id, chunk) DO UPDATE SET
        within_bits = (v.within_bits & ~day_bit) | excluded.within_bits,
        over_bits = (v.over_bits & ~day_bit) | excluded.over_bits;
    RETURN NULL;
END
$$;

CREATE TRIGGER daily_rollups_verdict_insert AFTER INSERT ON daily_rollups
    FOR EACH ROW EXECUTE FUNCTION daily_rollups_verdict();
CREATE TRIGGER daily_rollups_verdict_update AFTER UPDATE OF usage, budget ON daily_rollups
    FOR EACH ROW EXECUTE FUNCTION daily_rollups_verdict();
CREATE TRIGGER daily_rollups_verdict_delete AFTER DELETE ON daily_rollups
    FOR EACH ROW EXECUTE FUNCTION daily_rollups_verdict();

INSERT INTO verdict_chunks (meter_id, chunk, within_bits, over_bits)
SELECT meter_id, day / 62,
       CAST(SUM(CASE WHEN usage <= budget * 1.000000001 + 0.000000001
                THEN CAST(1 AS BIGINT) << CAST(day % 62 AS INTEGER) ELSE 0 END) AS BIGINT),
       CAST(SUM(CASE WHEN usage > budget * 1.000000001 + 0.000000001
                THEN CAST(1 AS BIGINT) << CAST(day % 62 AS INTEGER) ELSE 0 END) AS BIGINT)
FROM daily_rollups GROUP BY meter_id, day / 62;
