-- q1: Currency conversion. Every bid with its price converted from dollars
-- to euros (times 0.908).
-- Standard: nexmark/nexmark (Flink) q1; RisingWave q1.
SELECT auction, bidder, 0.908 * price AS price, date_time, extra
FROM bid
