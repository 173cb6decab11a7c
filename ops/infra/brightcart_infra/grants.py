"""Warehouse grants of the per-task logins, generated from the lane registry.

    cd ops && ../.venv/bin/python -m infra.brightcart_infra.grants   # prints the SQL

Run by an administrator at deploy time (docs/runbooks/deploy.md step 5), after creating each
user with the password of its `brightcart/warehouse/<task>` secret. A lane's login creates and
writes tables in its raw schema only, appends to the load log, and writes the ops records its
runner keeps; the transform login builds everything else. Idempotent; safe to rerun.
"""

from __future__ import annotations

from brightcart_ops.registry import Registry, registry

from .secrets import TRANSFORM_LOGIN, warehouse_login

OPS_RECORDS = ("ops.pipeline_runs", "ops.alerts")
LOAD_LOG = "raw_meta.load_log"


def lane_grants(known: Registry) -> list[str]:
    statements: list[str] = []
    for lane in known.lanes.values():
        user = warehouse_login(lane.name)
        statements += [
            f"-- {lane.name} lane ({lane.source}): {lane.raw_schema}, the load log, ops records",
            f"CREATE SCHEMA IF NOT EXISTS {lane.raw_schema} AUTHORIZATION {user};",
            f"GRANT USAGE, CREATE ON SCHEMA {lane.raw_schema} TO {user};",
            f"GRANT USAGE ON SCHEMA raw_meta TO {user};",
            f"GRANT SELECT, INSERT ON {LOAD_LOG} TO {user};",
            f"GRANT USAGE ON SCHEMA ops TO {user};",
            *(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {user};" for table in OPS_RECORDS),
            f"GRANT USAGE ON SCHEMA {lane.raw_schema} TO {TRANSFORM_LOGIN};",
            f"ALTER DEFAULT PRIVILEGES FOR USER {user} IN SCHEMA {lane.raw_schema} "
            f"GRANT SELECT ON TABLES TO {TRANSFORM_LOGIN};",
        ]
    return statements


def render(known: Registry | None = None) -> str:
    return "\n".join(lane_grants(known or registry())) + "\n"


if __name__ == "__main__":
    print(render(), end="")
