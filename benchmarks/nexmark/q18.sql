-- q18: Find last bid. The latest bid of each bidder on each auction
-- (deduplication keeping the last row).
-- Standard: nexmark/nexmark (Flink) q18; RisingWave q18 (which adds extra to
-- the ORDER BY to break ties; no tie is possible here, every event has its
-- own time).
SELECT auction, bidder, price, channel, url, date_time, extra
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY date_time DESC) AS rank_number
    FROM bid
) t
WHERE rank_number <= 1
