-- q17: Auction statistics report. Per auction and day: bids in total and
-- in three price ranks, and the minimum, maximum, average and total price.
-- Standard: nexmark/nexmark (Flink) q17; RisingWave q17. Needs FILTER
-- clauses, like q15. The day is spelled with casts (no to_char yet).
SELECT
    auction,
    CAST(CAST(date_time AS date) AS varchar) AS day,
    count(*) AS total_bids,
    count(*) FILTER (WHERE price < 10000) AS rank1_bids,
    count(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
    count(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
    min(price) AS min_price,
    max(price) AS max_price,
    avg(price) AS avg_price,
    sum(price) AS sum_price
FROM bid
GROUP BY auction, CAST(CAST(date_time AS date) AS varchar)
