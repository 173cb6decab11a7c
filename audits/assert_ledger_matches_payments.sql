AUDIT (
  name assert_ledger_matches_payments
);

/* Finance identity over the whole affected range: for every order whose money was booked in the
   audited interval, all its sale, discount, shipping and tax entries booked up to the interval end
   (whatever their business date or booking hour) add up to the payments captured for the order as
   known at the interval end (raw_shop.payments read as of that time). An order none of whose sale
   lines still stands (deleted, or never paid) is not checked. Each returned row is one order that
   does not add up. */
WITH touched AS (
  SELECT DISTINCT
    order_id
  FROM @this_model
), ledger AS (
  SELECT
    l.order_id,
    SUM(l.amount) AS ledger_total,
    SUM(
      CASE
        WHEN l.entry_type = 'sale'
        THEN CASE WHEN l.is_reversal THEN -1 ELSE 1 END
        ELSE 0
      END
    ) AS standing_sales
  FROM @unfiltered(@this_model) AS l
  JOIN touched AS t
    ON t.order_id = l.order_id
  WHERE
    l.booked_at <= @end_ts
    AND l.entry_type IN ('sale', 'discount', 'shipping', 'tax')
  GROUP BY
    l.order_id
), payment_versions AS (
  SELECT
    p.order_id,
    p.status,
    p.amount::DECIMAL(12, 2) AS amount,
    p._sdc_deleted_at,
    ROW_NUMBER() OVER (
      PARTITION BY p.payment_id
      ORDER BY p.updated_at DESC, p._sdc_sequence DESC, p._sdc_deleted_at DESC NULLS LAST
    ) AS version_rank
  FROM raw_shop.payments AS p
  JOIN touched AS t
    ON t.order_id = p.order_id
  WHERE
    @known_at(p) <= @end_ts
), captured AS (
  SELECT
    order_id,
    SUM(amount) AS captured_total
  FROM payment_versions
  WHERE
    version_rank = 1 AND _sdc_deleted_at IS NULL AND status = 'captured'
  GROUP BY
    order_id
)
SELECT
  l.order_id,
  l.ledger_total,
  c.captured_total
FROM ledger AS l
LEFT JOIN captured AS c
  ON c.order_id = l.order_id
WHERE
  l.standing_sales > 0
  AND (
    c.captured_total IS NULL OR l.ledger_total <> c.captured_total
  )
