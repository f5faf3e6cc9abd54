-- q4: Average price for a category. The winning (highest) bid of each
-- auction among the bids made while it was open, averaged per category.
-- Standard: nexmark/nexmark (Flink) q4; RisingWave q4. The join bound
-- (bid time between the auction's date_time and expires) differs per row,
-- so it is an equi-join on the auction id with a residual filter, not an
-- interval join: its state is not cleaned by the watermark.
SELECT Q.category, avg(Q.final) AS avg
FROM (
    SELECT max(B.price) AS final, A.category
    FROM auction A, bid B
    WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
    GROUP BY A.id, A.category
) Q
GROUP BY Q.category
