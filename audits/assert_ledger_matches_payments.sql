AUDIT (
  name assert_ledger_matches_payments
);

/* Finance identity: for every order in the audited ledger window, sale + discount + shipping + tax
   entries equal the captured payments of the order. Each returned row is one order that does not add up. */
WITH ledger AS (
  SELECT
    order_id,
    SUM(amount) AS ledger_total
  FROM @this_model
  WHERE
    entry_type IN ('sale', 'discount', 'shipping', 'tax')
  GROUP BY
    order_id
), captured AS (
  SELECT
    order_id,
    SUM(amount) AS captured_total
  FROM staging.stg_shop__payments
  WHERE
    status = 'captured'
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
  c.captured_total IS NULL OR l.ledger_total <> c.captured_total
