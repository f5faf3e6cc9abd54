-- q10: Log to file system. Every bid with its day and hour:minute, the
-- partition columns of Flink's file sink.
-- Standard: nexmark/nexmark (Flink) q10 (DATE_FORMAT(dateTime, 'yyyy-MM-dd')
-- and 'HH:mm'); RisingWave q10 (to_char). Deviations: Strata has no
-- to_char yet, so the same texts are built with casts and lpad; the view
-- goes to DuckDB, not to partitioned files.
SELECT auction, bidder, price, date_time, extra,
    CAST(CAST(date_time AS date) AS varchar) AS dt,
    lpad(CAST(extract(hour FROM date_time) AS varchar), 2, '0') || ':'
        || lpad(CAST(extract(minute FROM date_time) AS varchar), 2, '0') AS hm
FROM bid
