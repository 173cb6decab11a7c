"""cdk-nag acknowledgements: every suppression names the finding and says why."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from aws_cdk import aws_s3 as s3
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Suppress one cdk-nag finding (e.g. `AwsSolutions-IAM5[Resource::*]`) on a construct."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def objects_finding(bucket: s3.IBucket, pattern: str) -> str:
    """The IAM5 finding id cdk-nag reports for `bucket.arn_for_objects(pattern)`."""
    stack = Stack.of(bucket)
    cfn = bucket.node.default_child
    assert isinstance(cfn, CfnResource), "only buckets defined in this app"
    logical_id = stack.resolve(stack.get_logical_id(cfn))
    return f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{pattern}]"


def acknowledge_objects(scope: IConstruct, bucket: s3.IBucket, pattern: str) -> None:
    acknowledge(
        scope,
        objects_finding(bucket, pattern),
        f"Object keys are written per run under the {pattern.rstrip('*')} prefix, so the "
        "statement names that prefix; actions are listed one by one, never s3:*.",
    )
