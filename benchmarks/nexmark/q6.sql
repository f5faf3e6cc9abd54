-- q6: Average selling price by seller. For each seller, the average of the
-- winning prices of their last 10 closed auctions.
-- Standard: nexmark/nexmark (Flink) q6, which Flink itself cannot run (an
-- OVER window over an updating input); RisingWave's q6_group_top1 variant.
-- status: unsupported: function avg() is not supported yet
SELECT Q.seller,
    avg(Q.final) OVER (PARTITION BY Q.seller ORDER BY Q.date_time ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) AS avg
FROM (
    SELECT ROW_NUMBER() OVER (PARTITION BY A.id, A.seller ORDER BY B.price DESC) AS rank,
        A.seller, B.price AS final, B.date_time
    FROM auction AS A, bid AS B
    WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
) AS Q
WHERE Q.rank <= 1
