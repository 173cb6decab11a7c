-- BI access to the Redshift warehouse: the QuickSight login reads schema `bi` and nothing else.
--
-- Who runs it: an administrator, once per environment, during docs/runbooks/deploy.md step 5
-- (and again after restoring a namespace). Connect as the Redshift-managed admin; create the BI
-- user with the password from the `brightcart/warehouse/bi_reader` secret (never written here):
--
--   CREATE USER brightcart_bi PASSWORD '<from Secrets Manager>';   -- first time only
--   CREATE ROLE bi_reader;                                          -- first time only
--
-- Everything below is idempotent and safe to rerun.
--
-- Why this is enough: SQLMesh builds `bi.*` as late-binding views (WITH NO SCHEMA BINDING).
-- Redshift checks SELECT on the view for the reader, and SELECT on the referenced physical
-- tables (sqlmesh__* schemas) for the view OWNER (brightcart_pipeline). So the BI role needs no
-- grant outside `bi`, and CREATE OR REPLACE VIEW on a promotion keeps the grants of the view.

GRANT ROLE bi_reader TO brightcart_bi;

GRANT USAGE ON SCHEMA bi TO ROLE bi_reader;

GRANT SELECT ON ALL TABLES IN SCHEMA bi TO ROLE bi_reader;

-- Views the pipeline user creates in `bi` later are readable without another grant.
ALTER DEFAULT PRIVILEGES FOR USER brightcart_pipeline IN SCHEMA bi
  GRANT SELECT ON TABLES TO ROLE bi_reader;

-- Nothing else: no USAGE on raw_*, staging, intermediate, marts_* or sqlmesh__* schemas.
