AUDIT (
  name assert_row_count_vs_baseline,
  blocking FALSE,
  defaults (baseline_days = 7, min_ratio = 0.5, min_baseline = 20)
);

/* Row-count anomaly: rows in the last hour of the audited interval against the same hour on each of
   the previous @baseline_days days. Returns the hour when it holds fewer than @min_ratio times the
   baseline average (and the baseline has at least @min_baseline rows). Non-blocking: it alerts. */
WITH checked AS (
  SELECT
    DATE_TRUNC('HOUR', @end_ts::TIMESTAMP WITH TIME ZONE) AS hour_start
), history AS (
  SELECT
    @time_column AS at_time
  FROM @unfiltered(@this_model)
  WHERE
    @time_column >= DATEADD(DAY, -@baseline_days, @end_ts::TIMESTAMP WITH TIME ZONE - INTERVAL '1 HOUR')
    AND @time_column <= @end_ts::TIMESTAMP WITH TIME ZONE
), counts AS (
  SELECT
    c.hour_start,
    SUM(CASE WHEN h.at_time >= c.hour_start THEN 1 ELSE 0 END) AS hour_rows,
    SUM(
      CASE
        WHEN h.at_time < c.hour_start
        AND EXTRACT(HOUR FROM h.at_time) = EXTRACT(HOUR FROM c.hour_start)
        THEN 1
        ELSE 0
      END
    ) * 1.0 / @baseline_days AS baseline_rows
  FROM checked AS c
  LEFT JOIN history AS h
    ON TRUE
  GROUP BY
    c.hour_start
)
SELECT
  hour_start,
  hour_rows,
  baseline_rows,
  'row count below trailing same-hour baseline' AS problem
FROM counts
WHERE
  baseline_rows >= @min_baseline
  AND COALESCE(hour_rows, 0) < @min_ratio * baseline_rows
