-- q14: Calculation. Bids whose converted price (0.908 * price) is between
-- 1,000,000 and 50,000,000, with their time of day and the count of 'c' in
-- extra.
-- Standard: nexmark/nexmark (Flink) q14; RisingWave q14. Deviation: the
-- standard counts with a user function, count_char(extra, 'c'); here it is
-- the built-in length(extra) - length(replace(extra, 'c', '')) (same
-- result; Strata's UDFs are WebAssembly modules, measured on their own).
SELECT auction, bidder, 0.908 * price AS price,
    CASE
        WHEN extract(hour FROM date_time) >= 8 AND extract(hour FROM date_time) <= 18 THEN 'dayTime'
        WHEN extract(hour FROM date_time) <= 6 OR extract(hour FROM date_time) >= 20 THEN 'nightTime'
        ELSE 'otherTime'
    END AS bid_time_type,
    date_time, extra,
    length(extra) - length(replace(extra, 'c', '')) AS c_counts
FROM bid
WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000
