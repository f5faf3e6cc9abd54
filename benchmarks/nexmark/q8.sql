-- q8: Monitor new users. People who opened an auction in the same
-- 10-second tumbling window in which they registered.
-- Standard: nexmark/nexmark (Flink) q8; RisingWave q8.
SELECT P.id, P.name, P.starttime
FROM (
    SELECT id, name, window_start AS starttime, window_end AS endtime
    FROM TUMBLE(person, date_time, INTERVAL '10' SECOND)
    GROUP BY id, name, window_start, window_end
) P
JOIN (
    SELECT seller, window_start AS starttime, window_end AS endtime
    FROM TUMBLE(auction, date_time, INTERVAL '10' SECOND)
    GROUP BY seller, window_start, window_end
) A ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime

-- oracle: DuckDB has no TUMBLE; window_start is time_bucket(10s, date_time).
SELECT P.id, P.name, P.starttime
FROM (
    SELECT id, name, time_bucket(INTERVAL '10 seconds', date_time) AS starttime
    FROM person GROUP BY ALL
) P
JOIN (
    SELECT seller, time_bucket(INTERVAL '10 seconds', date_time) AS starttime
    FROM auction GROUP BY ALL
) A ON P.id = A.seller AND P.starttime = A.starttime
