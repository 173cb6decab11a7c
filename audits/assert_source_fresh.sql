AUDIT (
  name assert_source_fresh,
  blocking FALSE,
  defaults (
    sla_hours = 2
  )
);

/* Freshness per source lane against its SLA: returns each lane of the audited load-log summary whose
   high-water mark is more than @sla_hours hours behind the execution time (a local world's clock there, as status and the dashboards read it).
   Non-blocking: it alerts. */
SELECT
  lane,
  landed_to,
  'lane behind its freshness SLA' AS problem
FROM @this_model
WHERE
  landed_to < DATEADD(HOUR, -@sla_hours, @business_now(@execution_ts::TIMESTAMP WITH TIME ZONE))
