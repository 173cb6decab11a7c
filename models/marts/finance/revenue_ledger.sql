MODEL (
  name marts_finance.revenue_ledger,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column booked_at
  ),
  owner finance_data,
  cron '@hourly',
  grain entry_id,
  tags (
    booked_by_change_time
  ),
  depends_on (
    raw_shop.payments /* read by assert_ledger_matches_payments */
  ),
  signals (
    sources_landed(sources := ARRAY['shop'])
  ),
  audits (
    not_null(
      columns := (
        entry_id,
        entry_key,
        entry_type,
        entry_at,
        booked_at,
        order_id,
        amount,
        channel,
        category
      )
    ),
    unique_values(columns := (
      entry_id
    )),
    accepted_values(
      "column" := entry_type,
      is_in := ('sale', 'discount', 'shipping', 'tax', 'commission', 'refund', 'chargeback')
    ),
    assert_ledger_matches_payments,
    assert_row_count_vs_baseline(time_column := booked_at, baseline_days := 7, min_ratio := 0.5, min_baseline := 20),
    assert_null_rate_vs_baseline(
      time_column := booked_at,
      "column" := country,
      baseline_days := 7,
      max_increase := 0.2,
      min_rows := 10
    )
  ),
  description 'The finance ledger: immutable money entries, booked when the change became known and dated at their business time. Processed by booking time (booked_at: when the source version behind the change became known, its updated_at or deletion time), so a change of any age that lands in an hour is booked in that hour''s interval; an hour with nothing landed books nothing. For each order whose money changed, every change point compares the order''s money lines as of that point with the lines as of its previous change point: a new line is booked as an entry; a changed line is booked as a reversal of the old entry plus the new one (both adjustments); a removed line (deleted order, refund withdrawn) as a reversal. Lines: sale, discount and commission per order line, shipping and tax per order, at paid_at (paid orders only); refund or chargeback per refund, at refunded_at. Amounts are signed from the customer money view (sale, shipping, tax positive; discount, refund, chargeback negative); commission is the marketplace share, positive. The sum of an entry_key''s entries is its standing amount; marts_finance.revenue_lines is the ledger as of business date.'
);

WITH changed_orders AS (
  /* orders with a version of the order, of a line or of a refund that became known in the
     interval, read from the raw logs first: the version CTEs below hold these orders' versions
     only, so a run reads the history of the orders it books and not every version ever landed */
  SELECT
    v.order_id
  FROM raw_shop.orders AS v
  WHERE
    @known_at(v) BETWEEN @start_ts AND @end_ts
  UNION
  SELECT
    v.order_id
  FROM raw_shop.order_items AS v
  WHERE
    @known_at(v) BETWEEN @start_ts AND @end_ts
  UNION
  SELECT
    v.order_id
  FROM raw_shop.refunds AS v
  WHERE
    @known_at(v) BETWEEN @start_ts AND @end_ts
), order_versions AS (
  SELECT
    o.order_id,
    o.customer_id,
    o.channel,
    UPPER(o.currency) AS currency,
    UPPER(o.shipping_country) AS shipping_country,
    o.shipping_amount::DECIMAL(12, 2) AS shipping_amount,
    o.tax_amount::DECIMAL(12, 2) AS tax_amount,
    o.paid_at::TIMESTAMP WITH TIME ZONE AS paid_at,
    o.created_at::TIMESTAMP WITH TIME ZONE AS created_at,
    o.updated_at,
    o._sdc_sequence,
    o._sdc_deleted_at,
    @known_at(o) AS known_at
  FROM raw_shop.orders AS o
  WHERE
    o.order_id IN (
      SELECT
        order_id
      FROM changed_orders
    )
), item_versions AS (
  SELECT
    i.order_item_id,
    i.order_id,
    i.product_id,
    i.seller_id,
    i.quantity::INTEGER AS quantity,
    i.unit_price::DECIMAL(12, 2) AS unit_price,
    COALESCE(i.discount_amount, 0)::DECIMAL(12, 2) AS discount_amount,
    i.created_at::TIMESTAMP WITH TIME ZONE AS created_at,
    i.updated_at,
    i._sdc_sequence,
    i._sdc_deleted_at,
    @known_at(i) AS known_at
  FROM raw_shop.order_items AS i
  WHERE
    i.order_id IN (
      SELECT
        order_id
      FROM changed_orders
    )
), refund_versions AS (
  SELECT
    r.refund_id,
    r.order_id,
    r.order_item_id,
    r.refund_type,
    r.amount::DECIMAL(12, 2) AS amount,
    r.refunded_at::TIMESTAMP WITH TIME ZONE AS refunded_at,
    r.created_at::TIMESTAMP WITH TIME ZONE AS created_at,
    r.updated_at,
    r._sdc_sequence,
    r._sdc_deleted_at,
    @known_at(r) AS known_at
  FROM raw_shop.refunds AS r
  WHERE
    r.order_id IN (
      SELECT
        order_id
      FROM changed_orders
    )
), product_versions AS (
  SELECT
    p.product_id,
    p.category,
    p.updated_at,
    p._sdc_sequence,
    p._sdc_deleted_at,
    @known_at(p) AS known_at
  FROM raw_shop.products AS p
), seller_versions AS (
  SELECT
    s.seller_id,
    s.commission_rate::DECIMAL(5, 4) AS commission_rate,
    s.updated_at,
    s._sdc_sequence,
    s._sdc_deleted_at,
    @known_at(s) AS known_at
  FROM raw_shop.sellers AS s
), moments AS (
  /* every moment a version of a changed order became known, up to the interval end (the version
     CTEs hold the changed orders only) */
  SELECT
    v.order_id,
    v.known_at
  FROM order_versions AS v
  WHERE
    v.known_at <= @end_ts
  UNION
  SELECT
    v.order_id,
    v.known_at
  FROM item_versions AS v
  WHERE
    v.known_at <= @end_ts
  UNION
  SELECT
    v.order_id,
    v.known_at
  FROM refund_versions AS v
  WHERE
    v.known_at <= @end_ts
), change_points AS (
  SELECT
    order_id,
    known_at AS booked_at,
    LAG(known_at) OVER (PARTITION BY order_id ORDER BY known_at) AS prior_at
  FROM moments
), states AS (
  /* per change point in the interval: the state it books (as of the point) and the state it
     replaces (as of the previous change point, which booked it) */
  SELECT
    order_id,
    booked_at,
    TRUE AS is_current,
    booked_at AS as_of
  FROM change_points
  WHERE
    booked_at BETWEEN @start_ts AND @end_ts
  UNION ALL
  SELECT
    order_id,
    booked_at,
    FALSE AS is_current,
    prior_at AS as_of
  FROM change_points
  WHERE
    booked_at BETWEEN @start_ts AND @end_ts AND NOT prior_at IS NULL
), orders_as_of AS (
  /* the latest known version of the order at each state, in staging's order; deletions removed */
  SELECT
    *
  FROM (
    SELECT
      s.order_id,
      s.booked_at,
      s.is_current,
      s.as_of,
      v.customer_id,
      v.channel,
      v.currency,
      v.shipping_country,
      v.shipping_amount,
      v.tax_amount,
      v.paid_at,
      v.created_at,
      v._sdc_deleted_at,
      ROW_NUMBER() OVER (
        PARTITION BY s.order_id, s.booked_at, s.is_current
        ORDER BY v.updated_at DESC, v._sdc_sequence DESC, v._sdc_deleted_at DESC NULLS LAST
      ) AS version_rank
    FROM states AS s
    JOIN order_versions AS v
      ON v.order_id = s.order_id AND v.known_at <= s.as_of
  ) AS ranked
  WHERE
    version_rank = 1 AND _sdc_deleted_at IS NULL
), items_as_of AS (
  SELECT
    *
  FROM (
    SELECT
      s.order_id,
      s.booked_at,
      s.is_current,
      s.as_of,
      v.order_item_id,
      v.product_id,
      v.seller_id,
      v.quantity,
      v.unit_price,
      v.discount_amount,
      v.created_at,
      v._sdc_deleted_at,
      ROW_NUMBER() OVER (
        PARTITION BY s.order_id, s.booked_at, s.is_current, v.order_item_id
        ORDER BY v.updated_at DESC, v._sdc_sequence DESC, v._sdc_deleted_at DESC NULLS LAST
      ) AS version_rank
    FROM states AS s
    JOIN item_versions AS v
      ON v.order_id = s.order_id AND v.known_at <= s.as_of
  ) AS ranked
  WHERE
    version_rank = 1 AND _sdc_deleted_at IS NULL
), refunds_as_of AS (
  SELECT
    *
  FROM (
    SELECT
      s.order_id,
      s.booked_at,
      s.is_current,
      v.refund_id,
      v.order_item_id,
      v.refund_type,
      v.amount,
      v.refunded_at,
      v.created_at,
      v._sdc_deleted_at,
      ROW_NUMBER() OVER (
        PARTITION BY s.order_id, s.booked_at, s.is_current, v.refund_id
        ORDER BY v.updated_at DESC, v._sdc_sequence DESC, v._sdc_deleted_at DESC NULLS LAST
      ) AS version_rank
    FROM states AS s
    JOIN refund_versions AS v
      ON v.order_id = s.order_id AND v.known_at <= s.as_of
  ) AS ranked
  WHERE
    version_rank = 1 AND _sdc_deleted_at IS NULL
), products_as_of AS (
  /* the product of each line as known at the state (its earliest version when none was known
     yet); a deleted product has no category */
  SELECT
    *
  FROM (
    SELECT
      i.order_id,
      i.booked_at,
      i.is_current,
      i.order_item_id,
      CASE WHEN p._sdc_deleted_at IS NULL THEN p.category END AS category,
      ROW_NUMBER() OVER (
        PARTITION BY i.order_id, i.booked_at, i.is_current, i.order_item_id
        ORDER BY CASE WHEN p.known_at <= i.as_of THEN 0 ELSE 1 END, CASE WHEN p.known_at <= i.as_of THEN p.updated_at END DESC NULLS LAST, CASE WHEN p.known_at <= i.as_of THEN p._sdc_sequence END DESC NULLS LAST, CASE WHEN p.known_at <= i.as_of THEN p._sdc_deleted_at END DESC NULLS LAST, p.updated_at, p._sdc_sequence
      ) AS version_rank
    FROM items_as_of AS i
    JOIN product_versions AS p
      ON p.product_id = i.product_id
  ) AS ranked
  WHERE
    version_rank = 1
), sellers_as_of AS (
  /* the seller's commission rate as known at the state (earliest version when none was known) */
  SELECT
    *
  FROM (
    SELECT
      i.order_id,
      i.booked_at,
      i.is_current,
      i.order_item_id,
      CASE WHEN s._sdc_deleted_at IS NULL THEN s.commission_rate END AS commission_rate,
      ROW_NUMBER() OVER (
        PARTITION BY i.order_id, i.booked_at, i.is_current, i.order_item_id
        ORDER BY CASE WHEN s.known_at <= i.as_of THEN 0 ELSE 1 END, CASE WHEN s.known_at <= i.as_of THEN s.updated_at END DESC NULLS LAST, CASE WHEN s.known_at <= i.as_of THEN s._sdc_sequence END DESC NULLS LAST, CASE WHEN s.known_at <= i.as_of THEN s._sdc_deleted_at END DESC NULLS LAST, s.updated_at, s._sdc_sequence
      ) AS version_rank
    FROM items_as_of AS i
    JOIN seller_versions AS s
      ON s.seller_id = i.seller_id
  ) AS ranked
  WHERE
    version_rank = 1
), order_lines AS (
  SELECT
    i.order_id,
    i.booked_at,
    i.is_current,
    i.order_item_id,
    o.paid_at,
    o.customer_id,
    o.channel,
    o.shipping_country,
    o.currency,
    COALESCE(p.category, 'unknown') AS category,
    i.seller_id,
    GREATEST(o.paid_at, i.created_at) AS recorded_at,
    i.quantity * i.unit_price AS gross_amount,
    i.discount_amount,
    ROUND(
      (
        i.quantity * i.unit_price - i.discount_amount
      ) * COALESCE(s.commission_rate, 0),
      2
    ) AS commission_amount
  FROM items_as_of AS i
  JOIN orders_as_of AS o
    ON o.order_id = i.order_id
    AND o.booked_at = i.booked_at
    AND o.is_current = i.is_current
  LEFT JOIN products_as_of AS p
    ON p.order_id = i.order_id
    AND p.booked_at = i.booked_at
    AND p.is_current = i.is_current
    AND p.order_item_id = i.order_item_id
  LEFT JOIN sellers_as_of AS s
    ON s.order_id = i.order_id
    AND s.booked_at = i.booked_at
    AND s.is_current = i.is_current
    AND s.order_item_id = i.order_item_id
), money_lines AS (
  /* the order's money lines at each state */
  SELECT
    order_id,
    booked_at,
    is_current,
    'sale' AS entry_type,
    'sale:item:' || order_item_id::VARCHAR AS entry_key,
    paid_at AS entry_at,
    order_item_id,
    NULL::BIGINT AS refund_id,
    customer_id,
    channel,
    shipping_country,
    currency,
    category,
    seller_id,
    gross_amount AS amount,
    recorded_at
  FROM order_lines
  WHERE
    NOT paid_at IS NULL
  UNION ALL
  SELECT
    order_id,
    booked_at,
    is_current,
    'discount' AS entry_type,
    'discount:item:' || order_item_id::VARCHAR AS entry_key,
    paid_at AS entry_at,
    order_item_id,
    NULL::BIGINT AS refund_id,
    customer_id,
    channel,
    shipping_country,
    currency,
    category,
    seller_id,
    -discount_amount AS amount,
    recorded_at
  FROM order_lines
  WHERE
    NOT paid_at IS NULL
  UNION ALL
  SELECT
    order_id,
    booked_at,
    is_current,
    'commission' AS entry_type,
    'commission:item:' || order_item_id::VARCHAR AS entry_key,
    paid_at AS entry_at,
    order_item_id,
    NULL::BIGINT AS refund_id,
    customer_id,
    channel,
    shipping_country,
    currency,
    category,
    seller_id,
    commission_amount AS amount,
    recorded_at
  FROM order_lines
  WHERE
    NOT paid_at IS NULL
  UNION ALL
  SELECT
    order_id,
    booked_at,
    is_current,
    'shipping' AS entry_type,
    'shipping:order:' || order_id::VARCHAR AS entry_key,
    paid_at AS entry_at,
    NULL::BIGINT AS order_item_id,
    NULL::BIGINT AS refund_id,
    customer_id,
    channel,
    shipping_country,
    currency,
    NULL::VARCHAR AS category,
    NULL::BIGINT AS seller_id,
    shipping_amount AS amount,
    GREATEST(paid_at, created_at) AS recorded_at
  FROM orders_as_of
  WHERE
    NOT paid_at IS NULL
  UNION ALL
  SELECT
    order_id,
    booked_at,
    is_current,
    'tax' AS entry_type,
    'tax:order:' || order_id::VARCHAR AS entry_key,
    paid_at AS entry_at,
    NULL::BIGINT AS order_item_id,
    NULL::BIGINT AS refund_id,
    customer_id,
    channel,
    shipping_country,
    currency,
    NULL::VARCHAR AS category,
    NULL::BIGINT AS seller_id,
    tax_amount AS amount,
    GREATEST(paid_at, created_at) AS recorded_at
  FROM orders_as_of
  WHERE
    NOT paid_at IS NULL
  UNION ALL
  SELECT
    r.order_id,
    r.booked_at,
    r.is_current,
    CASE WHEN r.refund_type = 'chargeback' THEN 'chargeback' ELSE 'refund' END AS entry_type,
    CASE WHEN r.refund_type = 'chargeback' THEN 'chargeback' ELSE 'refund' END || ':refund:' || r.refund_id::VARCHAR AS entry_key,
    r.refunded_at AS entry_at,
    r.order_item_id,
    r.refund_id,
    o.customer_id,
    o.channel,
    o.shipping_country,
    o.currency,
    l.category,
    l.seller_id,
    -r.amount AS amount,
    GREATEST(r.refunded_at, r.created_at) AS recorded_at
  FROM refunds_as_of AS r
  JOIN orders_as_of AS o
    ON o.order_id = r.order_id
    AND o.booked_at = r.booked_at
    AND o.is_current = r.is_current
  LEFT JOIN order_lines AS l
    ON l.order_item_id = r.order_item_id
    AND l.booked_at = r.booked_at
    AND l.is_current = r.is_current
), booked AS (
  SELECT
    *
  FROM money_lines
  WHERE
    is_current
), replaced AS (
  SELECT
    *
  FROM money_lines
  WHERE
    NOT is_current
), entries AS (
  /* a line new or changed at the point: its entry as of the point */
  SELECT
    n.entry_key,
    n.entry_type,
    n.entry_at,
    n.booked_at,
    NOT r.entry_key IS NULL AS is_adjustment,
    FALSE AS is_reversal,
    CASE
      WHEN r.entry_key IS NULL AND n.recorded_at < n.booked_at
      THEN n.recorded_at
      ELSE n.booked_at
    END AS recorded_at,
    n.order_id,
    n.order_item_id,
    n.refund_id,
    n.customer_id,
    n.channel,
    n.shipping_country,
    n.currency,
    n.category,
    n.seller_id,
    n.amount
  FROM booked AS n
  LEFT JOIN replaced AS r
    ON r.order_id = n.order_id
    AND r.booked_at = n.booked_at
    AND r.entry_key = n.entry_key
  WHERE
    r.entry_key IS NULL OR @line_changed(r, n)
  UNION ALL
  /* a line changed or gone at the point: the reversal of its previous entry */
  SELECT
    r.entry_key,
    r.entry_type,
    r.entry_at,
    r.booked_at,
    TRUE AS is_adjustment,
    TRUE AS is_reversal,
    r.booked_at AS recorded_at,
    r.order_id,
    r.order_item_id,
    r.refund_id,
    r.customer_id,
    r.channel,
    r.shipping_country,
    r.currency,
    r.category,
    r.seller_id,
    -r.amount AS amount
  FROM replaced AS r
  LEFT JOIN booked AS n
    ON n.order_id = r.order_id
    AND n.booked_at = r.booked_at
    AND n.entry_key = r.entry_key
  WHERE
    n.entry_key IS NULL OR @line_changed(r, n)
)
SELECT
  (
    entry_key || '@' || @booking_stamp(booked_at) || CASE WHEN is_reversal THEN ':reversal' ELSE '' END
  )::VARCHAR AS entry_id, /* entry_key@<booked_at in epoch microseconds>, :reversal for a reversal */
  entry_key::VARCHAR AS entry_key, /* the money line: entry type, source grain and id, e.g. sale:item:42 */
  entry_type::VARCHAR AS entry_type, /* sale, discount, shipping, tax, commission, refund or chargeback */
  entry_at::TIMESTAMP WITH TIME ZONE AS entry_at, /* business time of the movement (paid_at or refunded_at), UTC */
  booked_at::TIMESTAMP WITH TIME ZONE AS booked_at, /* when the change became known (source updated_at or deletion time), UTC; the incremental key */
  is_adjustment::BOOLEAN AS is_adjustment, /* the entry corrects a line booked earlier (a reversal or its replacement) */
  is_reversal::BOOLEAN AS is_reversal, /* the entry cancels an earlier entry of the same line (amount negated) */
  recorded_at::TIMESTAMP WITH TIME ZONE AS recorded_at, /* when the source recorded this money, UTC: for a new line the later of its business time and its row's created_at (never after booked_at), for an adjustment its booked_at; attribution's window reads it */
  order_id::BIGINT AS order_id, /* order the money belongs to */
  order_item_id::BIGINT AS order_item_id, /* order line; NULL for order-level entries and whole-order refunds */
  refund_id::BIGINT AS refund_id, /* refund behind a refund or chargeback entry */
  customer_id::BIGINT AS customer_id, /* buying customer */
  channel::VARCHAR AS channel, /* sales channel of the order */
  shipping_country::VARCHAR(2) AS country, /* order shipping country, ISO alpha-2 */
  currency::VARCHAR(3) AS currency, /* currency of the amount */
  COALESCE(category, 'unallocated')::VARCHAR AS category, /* product category; unallocated for order-level money */
  seller_id::BIGINT AS seller_id, /* seller of the line; NULL for order-level money */
  @money(amount) AS amount /* signed amount, DECIMAL(18,2) */
FROM entries
