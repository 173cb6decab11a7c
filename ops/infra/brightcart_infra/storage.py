"""S3 buckets: raw landing (90 days), loader staging (short expiry), audit export (Object Lock)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .nag import acknowledge
from .params import Storage


def _bucket(scope: Construct, cid: str, **kwargs: object) -> s3.Bucket:
    return s3.Bucket(
        scope,
        cid,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        removal_policy=RemovalPolicy.RETAIN,
        **kwargs,  # type: ignore[arg-type]
    )


class BrightCartStorage(Construct):
    def __init__(self, scope: Construct, cid: str, *, storage: Storage) -> None:
        super().__init__(scope, cid)
        self.access_logs = _bucket(
            self,
            "AccessLogs",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(365))],
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This bucket receives the access logs of the other buckets; logging it would recurse.",
        )
        logs = {"server_access_logs_bucket": self.access_logs}
        self.raw = _bucket(
            self,
            "RawLanding",
            server_access_logs_prefix="raw/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="raw-retention",
                    expiration=Duration.days(storage.raw_retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            **logs,
        )
        self.staging = _bucket(
            self,
            "LoaderStaging",
            server_access_logs_prefix="staging/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="staging-expiry",
                    expiration=Duration.days(storage.staging_expiry_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            **logs,
        )
        # Meltano run state (MELTANO_STATE_BACKEND_URI): versioned, old versions kept 30 days.
        self.state = _bucket(
            self,
            "MeltanoState",
            server_access_logs_prefix="state/",
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="old-state-versions", noncurrent_version_expiration=Duration.days(30)
                )
            ],
            **logs,
        )
        retention = Duration.days(storage.audit_retention_days)
        lock = (
            s3.ObjectLockRetention.compliance(retention)
            if storage.audit_object_lock_mode == "COMPLIANCE"
            else s3.ObjectLockRetention.governance(retention)
        )
        self.audit = _bucket(
            self,
            "AuditExport",
            server_access_logs_prefix="audit/",
            versioned=True,
            object_lock_enabled=True,
            object_lock_default_retention=lock,
            **logs,
        )
