-- q12: Processing-time windows. Bids per bidder in 10-second tumbling
-- windows of processing time.
-- Standard: nexmark/nexmark (Flink) q12 (PROCTIME()). Strata has event time
-- only: a view's result is a function of its input, so replay after a
-- crash gives the same rows; a processing-time window would not.
-- status: unsupported: function proctime() does not exist
WITH B AS (SELECT *, proctime() AS p_time FROM bid)
SELECT bidder, count(*) AS bid_count, window_start AS starttime, window_end AS endtime
FROM TUMBLE(B, p_time, INTERVAL '10' SECOND)
GROUP BY bidder, window_start, window_end
