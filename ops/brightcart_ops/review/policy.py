"""The review policy: approver groups, what counts as a finance mart, how long approvals hold.

Read from ops/review_policy.yaml (BRIGHTCART_REVIEW_POLICY names another file). Group members
are exact identities, shell-style patterns, or `iam-group:<name>` entries resolved through IAM
(production: the approvers' IAM users; locally moto's IAM when one is configured).
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_ops.yamlfile import read_yaml

DEFAULT_PATH = PROJECT_ROOT / "ops" / "review_policy.yaml"
IAM_PREFIX = "iam-group:"
log = logging.getLogger(__name__)


class PolicyError(ValueError):
    """The review policy file is missing or malformed."""


def _iam_group_members(group: str) -> set[str]:
    """ARNs of the IAM users in an IAM group (empty when IAM cannot be reached)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        pages = boto3.client("iam").get_paginator("get_group").paginate(GroupName=group)
        return {str(user["Arn"]) for page in pages for user in page["Users"]}
    except (BotoCoreError, ClientError) as exc:
        log.warning("IAM group %s unreadable (%s); its members are not approvers", group, exc)
        return set()


@dataclass(frozen=True)
class Policy:
    groups: dict[str, list[str]]
    finance_group: str = "finance"
    finance_schemas: frozenset[str] = frozenset()
    finance_owners: frozenset[str] = frozenset()
    approval_valid_days: int = 14
    iam_members: Callable[[str], set[str]] = field(default=_iam_group_members, compare=False)

    def is_finance(self, schema: str, owner: str | None) -> bool:
        """A finance mart: its schema or its owner is listed in the policy."""
        return schema.strip('"').lower() in self.finance_schemas or (
            owner is not None and owner.lower() in self.finance_owners
        )

    def in_group(self, identity: str, group: str) -> bool:
        for entry in self.groups.get(group, []):
            if entry.startswith(IAM_PREFIX):
                if identity in self.iam_members(entry[len(IAM_PREFIX) :]):
                    return True
            elif fnmatch.fnmatchcase(identity, entry):
                return True
        return False

    def groups_of(self, identity: str) -> list[str]:
        return sorted(g for g in self.groups if self.in_group(identity, g))

    def describe(self, group: str) -> str:
        return ", ".join(self.groups.get(group, [])) or "nobody"


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where} must be a list of strings")
    return list(value)


def parse(data: Any, source: str = "policy") -> Policy:
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: expected a mapping with groups and finance_marts")
    groups_raw = data.get("groups") or {}
    if not isinstance(groups_raw, dict):
        raise PolicyError(f"{source}: groups must map a group name to a list of identities")
    groups = {str(k): _strings(v, f"{source}: groups.{k}") for k, v in groups_raw.items()}
    finance_group = str(data.get("finance_group", "finance"))
    if finance_group not in groups:
        raise PolicyError(f"{source}: the finance group {finance_group!r} is not among the groups")
    marts = data.get("finance_marts") or {}
    if not isinstance(marts, dict):
        raise PolicyError(f"{source}: finance_marts must have schemas and/or owners")
    return Policy(
        groups=groups,
        finance_group=finance_group,
        finance_schemas=frozenset(
            s.lower() for s in _strings(marts.get("schemas"), "finance_marts.schemas")
        ),
        finance_owners=frozenset(
            s.lower() for s in _strings(marts.get("owners"), "finance_marts.owners")
        ),
        approval_valid_days=int(data.get("approval_valid_days", 14)),
    )


def load(path: Path | None = None) -> Policy:
    target = path or Path(os.environ.get("BRIGHTCART_REVIEW_POLICY") or DEFAULT_PATH)
    try:
        data = read_yaml(target)
    except OSError as exc:
        raise PolicyError(
            f"review policy {target} cannot be read ({exc}); set BRIGHTCART_REVIEW_POLICY to "
            "the policy file"
        ) from exc
    return parse(data, str(target))


def schema_of(name: str) -> str:
    """The schema of a model name, quoted or not, with or without its catalog."""
    parts = [p.strip('"') for p in name.split(".")]
    return parts[-2] if len(parts) >= 2 else ""


def finance_names(policy: Policy, models: Iterable[tuple[str, str | None]]) -> set[str]:
    """Names among (name, owner) pairs that are finance marts."""
    return {n for n, owner in models if policy.is_finance(schema_of(n), owner)}
