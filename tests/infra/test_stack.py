"""The synthesized production template: what meltano.yml and the parameters say it must hold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from aws_cdk.assertions import Match, Template
from infra.brightcart_infra.params import PRODUCTION
from infra.brightcart_infra.schedules import MELTANO_YML, prod_loader_setting

if TYPE_CHECKING:
    from .conftest import Synth

LANE_OF_JOB_EXTRACTOR = {
    "tap-postgres": "shop",
    "tap-brightcart-events": "events",
    "tap-s3-csv": "marketing",
    "tap-salesforce": "crm",
}


def _template(synth: Synth) -> Template:
    return Template.from_json(synth.template)


def _statements(synth: Synth) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for key, res in synth.resources("AWS::IAM::Policy").items():
        for st in res["Properties"]["PolicyDocument"]["Statement"]:
            out.append((key, st))
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_schedules_match_meltano_yml(synth: Synth) -> None:
    doc = yaml.safe_load(MELTANO_YML.read_text())
    declared = {d["name"]: d for d in doc.get("schedules") or []}
    found = {
        r["Properties"]["Name"].removeprefix("brightcart-"): r["Properties"]
        for r in synth.resources("AWS::Scheduler::Schedule").values()
    }
    assert set(found) == set(declared)
    families = {
        k: r["Properties"]["Family"] for k, r in synth.resources("AWS::ECS::TaskDefinition").items()
    }
    jobs = {j["name"]: j for j in doc.get("jobs") or []}
    for name, d in declared.items():
        props = found[name]
        minute, hour, dom, month, dow = str(d["interval"]).split()
        fields = props["ScheduleExpression"].removeprefix("cron(").removesuffix(")").split()
        assert fields[:2] == [minute, hour], name
        assert fields[3] == month and fields[5] == "*", name
        if dow == "*":
            assert (fields[2], fields[4]) == (dom, "?"), name
        else:  # day-of-week numbering differs; the translation has its own unit tests
            assert fields[2] == "?", name
        assert props["ScheduleExpressionTimezone"] == "UTC"
        override = json.loads(props["Target"]["Input"])
        # The job runner, not a bare `meltano run`: lock, timeout, retries, record, alert, metric.
        assert override["containerOverrides"][0]["command"] == ["brightcart", "run", d["job"]]
        task_ref = props["Target"]["EcsParameters"]["TaskDefinitionArn"]["Ref"]
        first = str(jobs[d["job"]]["tasks"][0]).split()[0].split("--")[0]
        lane = LANE_OF_JOB_EXTRACTOR.get(first, "transform")
        assert families[task_ref] == f"brightcart-{lane}", name


def test_one_task_definition_per_lane_sized_from_parameters(synth: Synth) -> None:
    tds = {
        r["Properties"]["Family"]: r["Properties"]
        for r in synth.resources("AWS::ECS::TaskDefinition").values()
    }
    assert set(tds) == {f"brightcart-{x.name}" for x in PRODUCTION.lanes}
    images = set()
    for lane in PRODUCTION.lanes:
        td = tds[f"brightcart-{lane.name}"]
        assert td["Cpu"] == str(lane.cpu_units)
        assert td["Memory"] == str(lane.memory_mib)
        assert td["RequiresCompatibilities"] == ["FARGATE"]
        (container,) = td["ContainerDefinitions"]
        images.add(json.dumps(container["Image"], sort_keys=True))
        assert container["LogConfiguration"]["LogDriver"] == "awslogs"
        names = {e["Name"] for e in container.get("Environment", [])}
        assert not any("PASSWORD" in n or n.endswith("_SECRET") for n in names)
        secret_vars = {s["Name"] for s in container["Secrets"]}
        assert {"PGUSER", "PGPASSWORD", "REDSHIFT_USER", "REDSHIFT_PASSWORD"} <= secret_vars
        assert not secret_vars & names  # a variable is either plain or secret, never both
    assert len(images) == 1  # one image for every task


def test_raw_staging_and_audit_buckets(synth: Synth) -> None:
    t = _template(synth)
    days = PRODUCTION.storage
    t.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [Match.object_like({"Id": "raw-retention", "ExpirationInDays": 90})]
                )
            }
        },
    )
    t.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {"Id": "staging-expiry", "ExpirationInDays": days.staging_expiry_days}
                        )
                    ]
                )
            }
        },
    )
    assert days.staging_expiry_days <= 3
    t.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "ObjectLockEnabled": True,
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2557}},
            },
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    )
    for res in synth.resources("AWS::S3::Bucket").values():
        p = res["Properties"]
        assert p["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
        assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert res.get("DeletionPolicy") == "Retain"


def test_no_wildcard_actions_and_no_s3_star(synth: Synth) -> None:
    statements = _statements(synth)
    assert statements
    for key, st in statements:
        actions = _as_list(st["Action"])
        assert "*" not in actions, key
        for action in actions:
            if action.startswith("s3:"):
                assert "*" not in action, (key, action)
                assert st["Resource"] != "*", (key, action)


def test_lane_roles_reach_only_their_prefixes(synth: Synth) -> None:
    staging = prod_loader_setting("s3_prefix")
    assert staging, "meltano.yml's prod target-redshift names its staging prefix"
    by_lane: dict[str, str] = {}
    for res in synth.resources("AWS::IAM::Policy").values():
        roles = json.dumps(res["Properties"]["Roles"])
        for lane in ("shop", "events", "marketing", "crm", "transform"):
            if f"{lane}TaskRole" in roles:
                by_lane[lane] = json.dumps(res["Properties"]["PolicyDocument"])
    assert set(by_lane) == {"shop", "events", "marketing", "crm", "transform"}
    for lane in ("shop", "events", "marketing", "crm"):
        assert f"/{staging}*" in by_lane[lane], lane
    assert f"/{staging}*" not in by_lane["transform"]
    assert "/events/*" in by_lane["events"] and "/events/*" not in by_lane["shop"]
    assert "/marketing/*" in by_lane["marketing"]
    assert "/audit/*" in by_lane["transform"] and "/audit/*" not in by_lane["crm"]
    assert "secretsmanager:PutSecretValue" in by_lane["crm"]
    assert "secretsmanager:PutSecretValue" not in by_lane["shop"]
    publish = [
        st
        for _, st in _statements(synth)
        if any(a.startswith("quicksight:") for a in _as_list(st["Action"]))
    ]
    assert len(publish) == 1
    assert sorted(_as_list(publish[0]["Action"])) == [
        "quicksight:CreateIngestion",
        "quicksight:DescribeIngestion",
    ]
    assert all(":dataset/brightcart-*" in json.dumps(r) for r in publish[0]["Resource"])


def test_redshift_serverless_and_state_db(synth: Synth) -> None:
    t = _template(synth)
    t.has_resource_properties(
        "AWS::RedshiftServerless::Workgroup",
        {
            "BaseCapacity": PRODUCTION.warehouse.base_rpu,
            "MaxCapacity": PRODUCTION.warehouse.max_rpu,
            "PubliclyAccessible": False,
            "EnhancedVpcRouting": True,
        },
    )
    t.has_resource_properties(
        "AWS::RedshiftServerless::Namespace",
        {"ManageAdminPassword": True, "AdminUserPassword": Match.absent()},
    )
    t.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "Engine": "postgres",
            "DBInstanceClass": "db.t4g.small",
            "MultiAZ": True,
            "StorageEncrypted": True,
            "DeletionProtection": True,
            "PubliclyAccessible": False,
        },
    )


def test_secrets_are_generated_never_literal(synth: Synth) -> None:
    secrets = synth.resources("AWS::SecretsManager::Secret")
    assert len(secrets) == len(PRODUCTION.secrets) + 1  # + the state DB login
    for key, res in secrets.items():
        assert "SecretString" not in res["Properties"], key
        assert "GenerateSecretString" in res["Properties"], key


def test_network_endpoints_and_single_nat(synth: Synth) -> None:
    endpoints = [r["Properties"] for r in synth.resources("AWS::EC2::VPCEndpoint").values()]
    names = json.dumps(endpoints)
    for service in ("s3", *PRODUCTION.network.interface_endpoints):
        assert f".{service}" in names, service
    assert len(synth.resources("AWS::EC2::NatGateway")) == PRODUCTION.network.nat_gateways


def test_alerts_alarms_and_budget(synth: Synth) -> None:
    t = _template(synth)
    t.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    alarms = synth.resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == PRODUCTION.alarm_count()
    metrics = {a["Properties"]["MetricName"] for a in alarms.values()}
    assert metrics == {
        "LaneFailed",
        "SourceUnreachable",
        "FreshnessLagMinutes",
        "BlockingAuditFailures",
        "ReconciliationMismatches",
    }
    for a in alarms.values():
        assert a["Properties"]["AlarmActions"], a["Properties"]["AlarmName"]
    t.has_resource_properties(
        "AWS::Budgets::Budget",
        {"Budget": Match.object_like({"BudgetLimit": {"Amount": 18000, "Unit": "USD"}})},
    )


def test_cdk_nag_has_no_unsuppressed_findings(synth: Synth) -> None:
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    violations = [v for p in report["pluginReports"] for v in p.get("violations", [])]
    assert violations == []
    meta = json.loads((synth.outdir / "BrightCartPipeline.metadata.json").read_text())
    acknowledged = {
        rule: reason
        for entries in meta.values()
        for e in entries
        if e["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in e["data"].items()
    }
    ours = {rule: reason for rule, reason in acknowledged.items() if "AwsSolutions-" in rule}
    assert ours
    for rule, reason in ours.items():
        assert len(reason) > 30, rule
        assert "Action::s3:*" not in rule and "Action::*" not in rule, rule
    # The AwsSolutions pack itself wrote its suppressions into the template: it was attached
    # and it ran (a passing pack leaves no entry in validation-report.json).
    in_template = [
        rule
        for res in synth.template["Resources"].values()
        for rule in res.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        if rule["id"].startswith("AwsSolutions-")
    ]
    assert {r["id"] for r in in_template} == {k.removeprefix("Annotation::") for k in ours}
    assert all(len(r["reason"]) > 30 for r in in_template)


def test_cfn_lint_is_clean(synth: Synth) -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--ignore-checks", "W3010", "--", str(synth.template_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alarm_names_a_runbook_that_exists(synth: Synth) -> None:
    runbooks = Path(__file__).resolve().parents[2] / "docs" / "runbooks"
    for alarm in synth.resources("AWS::CloudWatch::Alarm").values():
        text = alarm["Properties"]["AlarmDescription"]
        page = text.rsplit("docs/runbooks/", 1)[1]
        assert (runbooks / page).is_file(), text
    assert (runbooks / "budget.md").is_file()
