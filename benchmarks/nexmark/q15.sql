-- q15: Bidding statistics report. Per day: bids, distinct bidders and
-- distinct auctions, in total and in three price ranks.
-- Standard: nexmark/nexmark (Flink) q15; RisingWave q15. Its point is many
-- distinct aggregates with FILTER clauses (planned as the aggregate over
-- CASE WHEN, as the engine skips NULLs). The day
-- is spelled with casts (Strata has no to_char/DATE_FORMAT yet).
SELECT
    CAST(CAST(date_time AS date) AS varchar) AS day,
    count(*) AS total_bids,
    count(*) FILTER (WHERE price < 10000) AS rank1_bids,
    count(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
    count(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
    count(DISTINCT bidder) AS total_bidders,
    count(DISTINCT bidder) FILTER (WHERE price < 10000) AS rank1_bidders,
    count(DISTINCT bidder) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bidders,
    count(DISTINCT bidder) FILTER (WHERE price >= 1000000) AS rank3_bidders,
    count(DISTINCT auction) AS total_auctions,
    count(DISTINCT auction) FILTER (WHERE price < 10000) AS rank1_auctions,
    count(DISTINCT auction) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_auctions,
    count(DISTINCT auction) FILTER (WHERE price >= 1000000) AS rank3_auctions
FROM bid
GROUP BY CAST(CAST(date_time AS date) AS varchar)
