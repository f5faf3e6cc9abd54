-- q21: Add channel id. Bids from a known channel with its id: fixed for the
-- four hot channels, otherwise taken from the URL's channel_id parameter.
-- Standard: nexmark/nexmark (Flink) q21 (REGEXP_EXTRACT); RisingWave q21
-- (regexp_match(..)[2], as here). The planner supports neither the
-- array subscript nor regexp_match yet.
-- status: unsupported: array/field indirection is not supported yet
SELECT auction, bidder, price, channel,
    CASE
        WHEN lower(channel) = 'apple' THEN '0'
        WHEN lower(channel) = 'google' THEN '1'
        WHEN lower(channel) = 'facebook' THEN '2'
        WHEN lower(channel) = 'baidu' THEN '3'
        ELSE (regexp_match(url, '(&|^)channel_id=([^&]*)'))[2]
    END AS channel_id
FROM bid
WHERE (regexp_match(url, '(&|^)channel_id=([^&]*)'))[2] IS NOT NULL
    OR lower(channel) IN ('apple', 'google', 'facebook', 'baidu')
