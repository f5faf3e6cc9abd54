-- q3: Local item suggestion. Sellers in Oregon, Idaho or California who
-- open auctions in category 10, with their name, city and state.
-- Standard: nexmark/nexmark (Flink) q3; RisingWave q3. An incremental join
-- of two unbounded inputs (both sides' state grows with the stream).
SELECT P.name, P.city, P.state, A.id
FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')
