AUDIT (
  name assert_null_rate_vs_baseline,
  blocking FALSE,
  defaults (baseline_days = 7, max_increase = 0.2, min_rows = 10)
);

/* Null-rate spike: share of NULL @column over the last day of the audited interval against the
   @baseline_days days before it. Returns a row when the rate rises by more than @max_increase
   (absolute) on at least @min_rows rows. Non-blocking: it alerts. */
WITH bounds AS (
  SELECT
    DATEADD(DAY, -1, @end_ts::TIMESTAMP WITH TIME ZONE) AS recent_from
), history AS (
  SELECT
    @time_column AS at_time,
    CASE WHEN @column IS NULL THEN 1 ELSE 0 END AS is_null
  FROM @unfiltered(@this_model)
  WHERE
    @time_column >= DATEADD(DAY, -(
      @baseline_days + 1
    ), @end_ts::TIMESTAMP WITH TIME ZONE)
    AND @time_column <= @end_ts::TIMESTAMP WITH TIME ZONE
), rates AS (
  SELECT
    SUM(CASE WHEN h.at_time > b.recent_from THEN 1 ELSE 0 END) AS recent_rows,
    SUM(CASE WHEN h.at_time > b.recent_from THEN h.is_null ELSE 0 END) * 1.0 / NULLIF(SUM(CASE WHEN h.at_time > b.recent_from THEN 1 ELSE 0 END), 0) AS recent_null_rate,
    SUM(CASE WHEN h.at_time <= b.recent_from THEN h.is_null ELSE 0 END) * 1.0 / NULLIF(SUM(CASE WHEN h.at_time <= b.recent_from THEN 1 ELSE 0 END), 0) AS baseline_null_rate
  FROM history AS h
  CROSS JOIN bounds AS b
)
SELECT
  @as_text(@column) AS column_name,
  recent_rows,
  recent_null_rate,
  baseline_null_rate,
  'null rate above trailing baseline' AS problem
FROM rates
WHERE
  recent_rows >= @min_rows
  AND recent_null_rate > COALESCE(baseline_null_rate, 0) + @max_increase
