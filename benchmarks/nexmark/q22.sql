-- q22: Get URL directories. Every bid with the first three directories of
-- its URL.
-- Standard: nexmark/nexmark (Flink) q22 (SPLIT_INDEX(url, '/', 3..5),
-- 0-based); RisingWave q22 (split_part, 1-based, as here).
SELECT auction, bidder, price, channel,
    split_part(url, '/', 4) AS dir1,
    split_part(url, '/', 5) AS dir2,
    split_part(url, '/', 6) AS dir3
FROM bid
