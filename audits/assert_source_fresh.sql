AUDIT (
  name assert_source_fresh,
  blocking FALSE,
  defaults (
    unknown_lane_lag_minutes = 120
  )
);

/* Freshness per source lane against the lane's own lag limit: returns each lane of the audited
   load-log summary whose high-water mark is more than its `max_lag_minutes` (the lane registry,
   meltano.yml; @unknown_lane_lag_minutes for a lane it does not declare) behind the execution time
   (a local world's clock there, as status and the dashboards read it).
   Non-blocking: it alerts. */
SELECT
  lane,
  landed_to,
  @lane_max_lag_minutes(lane, @unknown_lane_lag_minutes) AS max_lag_minutes,
  'lane behind its freshness limit' AS problem
FROM @this_model
WHERE
  landed_to < DATEADD(
    MINUTE,
    -@lane_max_lag_minutes(lane, @unknown_lane_lag_minutes),
    @business_now(@execution_ts::TIMESTAMP WITH TIME ZONE)
  )
