-- q0: Pass-through. Every bid, unchanged: the cost of reading and storing
-- the stream with no computation.
-- Standard: nexmark/nexmark (Flink) q0; RisingWave q0. Flink's sink is a
-- blackhole; here the view is stored in DuckDB like every view.
SELECT auction, bidder, price, date_time, extra
FROM bid
