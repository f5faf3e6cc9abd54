-- q19: Auction top-K. The 10 highest bids of each auction, with their rank.
-- Standard: nexmark/nexmark (Flink) q19; RisingWave q19. Deviation: ties on
-- price are broken by date_time, so the top 10 and their ranks are
-- deterministic and can be checked (the standard leaves them arbitrary).
SELECT * FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC, date_time) AS rank_number
    FROM bid
) t
WHERE rank_number <= 10
