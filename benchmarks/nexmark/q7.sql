-- q7: Highest bid. The bids that carry the highest price of their
-- 10-second tumbling window.
-- Standard: nexmark/nexmark (Flink) q7 (with extra, which RisingWave's q7
-- drops). The BETWEEN on the window end makes it an interval join on price.
SELECT B.auction, B.price, B.bidder, B.date_time, B.extra
FROM bid B
JOIN (
    SELECT max(price) AS maxprice, window_end AS date_time
    FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND)
    GROUP BY window_start, window_end
) B1 ON B.price = B1.maxprice
WHERE B.date_time BETWEEN B1.date_time - INTERVAL '10' SECOND AND B1.date_time

-- oracle: DuckDB has no TUMBLE; window_start is time_bucket(10s, date_time).
SELECT B.auction, B.price, B.bidder, B.date_time, B.extra
FROM bid B
JOIN (
    SELECT max(price) AS maxprice, time_bucket(INTERVAL '10 seconds', date_time) + INTERVAL 10 SECOND AS date_time
    FROM bid
    GROUP BY 2
) B1 ON B.price = B1.maxprice
WHERE B.date_time BETWEEN B1.date_time - INTERVAL 10 SECOND AND B1.date_time
