-- q2: Selection. The bids on every 123rd auction.
-- Standard: nexmark/nexmark (Flink) q2 (MOD(auction, 123) = 0); RisingWave
-- q2. (Beam's q2 filters auction % 123 too; the original paper used a fixed
-- list of auctions.)
SELECT auction, price
FROM bid
WHERE mod(auction, 123) = 0
