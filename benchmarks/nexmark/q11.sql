-- q11: User sessions. Per bidder, the bids of each session: bids less
-- than 10 seconds apart.
-- Standard: nexmark/nexmark (Flink) q11 (GROUP BY bidder, SESSION(dateTime,
-- INTERVAL '10' SECOND)), spelled with the SESSION table function.
SELECT B.bidder, count(*) AS bid_count, window_start AS starttime, window_end AS endtime
FROM SESSION(bid, date_time, INTERVAL '10' SECOND) B
GROUP BY B.bidder, window_start, window_end

-- oracle: sessions as runs of a bidder's event times less than 10 seconds
-- apart; a session ends 10 seconds after its last bid.
WITH o AS (
    SELECT bidder, date_time,
        CASE WHEN lag(date_time) OVER w IS NULL OR date_time - lag(date_time) OVER w >= INTERVAL 10 SECOND
            THEN 1 ELSE 0 END AS brk
    FROM bid WINDOW w AS (PARTITION BY bidder ORDER BY date_time)
), s AS (
    SELECT bidder, date_time, sum(brk) OVER (PARTITION BY bidder ORDER BY date_time ROWS UNBOUNDED PRECEDING) AS sid
    FROM o
)
SELECT bidder, count(*) AS bid_count, min(date_time) AS starttime, max(date_time) + INTERVAL 10 SECOND AS endtime
FROM s GROUP BY bidder, sid
