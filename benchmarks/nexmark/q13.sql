-- q13: Bounded side input join. Every bid enriched with the value of a
-- 10,000-row side table looked up by auction mod 10000.
-- Standard: nexmark/nexmark (Flink) q13, a processing-time lookup join
-- (FOR SYSTEM_TIME AS OF) with a file of pairs (i, 'i'). Deviations: the
-- side input is a table source (a JSON-lines file the benchmark writes) and
-- the join a regular stream-table join, which gives the same rows since the
-- table never changes; the planner joins on columns only, so the key
-- mod(auction, 10000) is computed in a subquery.
SELECT B.auction, B.bidder, B.price, B.date_time, S.value
FROM (SELECT *, mod(auction, 10000) AS side_key FROM bid) B
JOIN side_input S ON B.side_key = S.key
