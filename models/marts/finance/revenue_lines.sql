MODEL (
  name marts_finance.revenue_lines,
  kind INCREMENTAL_BY_UNIQUE_KEY (
    unique_key entry_key
  ),
  owner finance_data,
  cron '@hourly',
  grain entry_key,
  audits (
    not_null(
      columns := (entry_key, entry_type, entry_at, order_id, amount, channel, category)
    ),
    unique_values(columns := (
      entry_key
    ))
  ),
  description 'The ledger as of business date: one row per money line that stands now (entry_key), at its business time, with the amount booked for it. A line booked and later corrected shows only its current version; a line reversed and not replaced (deleted order, withdrawn refund) is gone. first_booked_at and last_booked_at say when the line''s current version was booked and when it last changed. Every revenue, refund and customer mart reads this table; marts_finance.revenue_ledger is the ledger as booked. Each run recomputes, from all their entries, the lines with an entry booked since its interval''s start and replaces them (a statement before the query removes them, so a line reversed and not replaced leaves the table); the first run and a restatement (run whole for this kind) read the whole ledger.'
);

@IF(
  @runtime_stage = 'evaluating',
  DELETE FROM @this_model
  WHERE
    entry_key IN (@booked_since(entry_key, @start_ts))
);

SELECT
  entry_key, /* the money line, e.g. sale:item:42 */
  entry_type, /* sale, discount, shipping, tax, commission, refund or chargeback */
  entry_at, /* business time of the movement, UTC */
  order_id, /* order the money belongs to */
  order_item_id, /* order line; NULL for order-level money and whole-order refunds */
  refund_id, /* refund behind a refund or chargeback */
  customer_id, /* buying customer */
  channel, /* sales channel of the order */
  country, /* shipping country, ISO alpha-2 */
  currency, /* currency of the amount */
  category, /* product category; unallocated for order-level money */
  seller_id, /* seller of the line; NULL for order-level money */
  @money(SUM(amount)) AS amount, /* the line's standing amount, signed as in the ledger */
  MIN(booked_at) AS first_booked_at, /* when this version of the line was first booked, UTC */
  MAX(booked_at) AS last_booked_at /* the line's latest booking (its entry or a reversal), UTC */
FROM marts_finance.revenue_ledger
WHERE
  entry_key IN (@booked_since(entry_key, @start_ts))
GROUP BY
  entry_key,
  entry_type,
  entry_at,
  order_id,
  order_item_id,
  refund_id,
  customer_id,
  channel,
  country,
  currency,
  category,
  seller_id
HAVING
  SUM(CASE WHEN is_reversal THEN -1 ELSE 1 END) > 0
