"""SQLMesh project configuration for the BrightCart warehouse.

Gateways are built in brightcart_sqlmesh.gateways so that this file stays short.
"""

from __future__ import annotations

import importlib
import os

from sqlmesh.core.config import Config, LinterConfig, ModelDefaultsConfig
from sqlmesh.core.config.format import FormatConfig
from sqlmesh.core.notification_target import NotificationTarget

from brightcart_sqlmesh.gate import GatedSchedulerConfig
from brightcart_sqlmesh.gateways import gateways

os.environ.setdefault("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "1")


# --- Publish notification target (registered here; written by the publish part) -------------
# BRIGHTCART_NOTIFY may name a module exposing ``targets() -> list[NotificationTarget]``;
# otherwise ``brightcart_sqlmesh.notify.targets()`` is used when that module exists.
def _notification_targets() -> list[NotificationTarget]:
    module_name = os.environ.get("BRIGHTCART_NOTIFY") or "brightcart_sqlmesh.notify"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            return []
        raise
    factory = getattr(module, "targets", None)
    return list(factory()) if callable(factory) else []


config = Config(
    gateways=gateways(),
    default_gateway="local",
    model_defaults=ModelDefaultsConfig(
        dialect="redshift",
        # First day of modelled history; backfills never go before it.
        start=os.environ.get("BRIGHTCART_WAREHOUSE_START", "2024-10-01"),
    ),
    disable_anonymized_analytics=True,
    # `sqlmesh format` (and `make lint`'s `sqlmesh format --check`): one keyword case (upper) and
    # one cast style (`x::TYPE`) across models and audits.
    format=FormatConfig(append_newline=True),
    linter=LinterConfig(
        enabled=True,
        rules={
            "redshiftportablefunctions",
            "incrementalmodelcontract",
            "notruncatedintervalbounds",
            "ambiguousorinvalidcolumn",
        },
    ),
    notification_targets=_notification_targets(),
    # Prod plans are applied only with an approved review (brightcart_ops.review.gate).
    default_scheduler=GatedSchedulerConfig(),
    # Old model versions stay queryable long enough to reproduce any closed month
    # (`brightcart reproduce`); dev environments expire after two weeks.
    snapshot_ttl="in 3 years",
    environment_ttl="in 2 weeks",
)
