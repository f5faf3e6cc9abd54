-- q16: Channel statistics report. Per channel and day: the last minute
-- seen, bids, distinct bidders and distinct auctions, in total and in three
-- price ranks.
-- Standard: nexmark/nexmark (Flink) q16 (minute is DATE_FORMAT(dateTime,
-- 'HH:mm'), hour 0-23); RisingWave q16. Needs FILTER clauses, like q15.
-- Day and minute are spelled with casts and lpad (no to_char yet).
SELECT
    channel,
    CAST(CAST(date_time AS date) AS varchar) AS day,
    max(lpad(CAST(extract(hour FROM date_time) AS varchar), 2, '0') || ':'
        || lpad(CAST(extract(minute FROM date_time) AS varchar), 2, '0')) AS minute,
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
GROUP BY channel, CAST(CAST(date_time AS date) AS varchar)
