"""Build the CDK app: context seeded (availability zones), environment, cdk-nag attached."""

from __future__ import annotations

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from .params import PRODUCTION, Params
from .stack import BrightCartStack

STACK_NAME = "BrightCartPipeline"


def context_for(params: Params) -> dict[str, object]:
    """What `python app.py` needs without cdk.json: AZ lookups answered offline."""
    azs = [params.region + s for s in "abcdef"[: params.network.azs]]
    return {
        f"availability-zones:account={params.account}:region={params.region}": azs,
        "@aws-cdk/aws-iam:minimizePolicies": True,
        "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    }


def build_app(outdir: str | None = None, params: Params = PRODUCTION, nag: bool = True) -> App:
    app = App(outdir=outdir, context=context_for(params))
    BrightCartStack(
        app,
        STACK_NAME,
        params=params,
        env=Environment(account=params.account, region=params.region),
        description="BrightCart analytics pipeline: Fargate lanes, Redshift Serverless, alerts",
    )
    if nag:
        # Suppressions are also written into the template metadata: an audit trail in the
        # deployed stack, and proof in tests that the pack was attached.
        Validations.of(app).add_plugins(
            AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
        )
    return app
