-- q5: Hot items. For every 10-second window sliding by 2 seconds, the
-- auctions with the most bids (ties all kept).
-- Standard: nexmark/nexmark (Flink) q5; RisingWave q5. Flink's
-- TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), slide, size)) is spelled
-- HOP(bid, date_time, slide, size). The windows emit as they change (the
-- default, as in RisingWave); the final content is the same as Flink's.
SELECT AuctionBids.auction, AuctionBids.num
FROM (
    SELECT auction, count(*) AS num, window_start AS starttime, window_end AS endtime
    FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
    GROUP BY auction, window_start, window_end
) AS AuctionBids
JOIN (
    SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
    FROM (
        SELECT count(*) AS num, window_start AS starttime, window_end AS endtime
        FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
        GROUP BY auction, window_start, window_end
    ) AS CountBids
    GROUP BY CountBids.starttime, CountBids.endtime
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime
    AND AuctionBids.endtime = MaxBids.endtime
    AND AuctionBids.num >= MaxBids.maxn

-- oracle: DuckDB has no HOP; a bid is in the 5 windows that start at
-- time_bucket(2s, date_time) - 2k seconds, k = 0..4.
WITH hop AS (
    SELECT auction, ws AS window_start, ws + INTERVAL 10 SECOND AS window_end
    FROM (SELECT auction, time_bucket(INTERVAL '2 seconds', date_time) - INTERVAL (k * 2) SECOND AS ws
          FROM bid, range(5) t(k))
)
SELECT AuctionBids.auction, AuctionBids.num
FROM (
    SELECT auction, count(*) AS num, window_start AS starttime, window_end AS endtime
    FROM hop GROUP BY auction, window_start, window_end
) AS AuctionBids
JOIN (
    SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
    FROM (
        SELECT count(*) AS num, window_start AS starttime, window_end AS endtime
        FROM hop GROUP BY auction, window_start, window_end
    ) AS CountBids
    GROUP BY CountBids.starttime, CountBids.endtime
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime
    AND AuctionBids.endtime = MaxBids.endtime
    AND AuctionBids.num >= MaxBids.maxn
