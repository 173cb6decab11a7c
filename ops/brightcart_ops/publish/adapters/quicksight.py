"""QuickSight: one FULL_REFRESH SPICE ingestion per dataset refresh.

SPICE keeps serving the last good import while an ingestion runs or after it fails, so a failed
run or a failed refresh never reaches a dashboard. The account id comes from
BRIGHTCART_QUICKSIGHT_ACCOUNT_ID (or AWS_ACCOUNT_ID), else from STS.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.exceptions import ClientError
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from brightcart_ops.publish.adapters import RefreshError
from brightcart_ops.publish.datasets import Dataset
from brightcart_ops.publish.log import Decision, LastRefresh

RUNNING = {"INITIALIZED", "QUEUED", "RUNNING"}


def _throttled(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in {
        "ThrottlingException",
        "LimitExceededException",
    }


class QuickSightAdapter:
    name = "quicksight"

    def __init__(self, client: Any = None, account_id: str | None = None) -> None:
        self.client = client or boto3.client("quicksight")
        self._account_id = account_id

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            self._account_id = (
                os.environ.get("BRIGHTCART_QUICKSIGHT_ACCOUNT_ID")
                or os.environ.get("AWS_ACCOUNT_ID")
                or str(boto3.client("sts").get_caller_identity()["Account"])
            )
        return self._account_id

    @retry(
        retry=retry_if_exception(_throttled),
        wait=wait_exponential(multiplier=1, max=20),
        stop=stop_after_attempt(4),
        reraise=True,
    )
    def _create(self, dataset: Dataset, ingestion_id: str) -> dict[str, Any]:
        response: dict[str, Any] = self.client.create_ingestion(
            AwsAccountId=self.account_id,
            DataSetId=dataset.quicksight_id,
            IngestionId=ingestion_id,
            IngestionType="FULL_REFRESH",
        )
        return response

    def refresh(self, dataset: Dataset, decision: Decision, ingestion_id: str) -> str:
        try:
            self._create(dataset, ingestion_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ResourceExistsException":
                return "started"  # the same ingestion was created by an earlier attempt
            raise RefreshError(
                f"QuickSight refused an ingestion for data set {dataset.quicksight_id!r} "
                f"({code}: {error.response.get('Error', {}).get('Message', '')}); check that "
                "the data set exists in the account and is a SPICE data set"
            ) from error
        return "started"

    def in_flight(self, dataset: Dataset, last: LastRefresh) -> bool:
        if last.status != "started" or not last.ingestion_id:
            return False
        try:
            response = self.client.describe_ingestion(
                AwsAccountId=self.account_id,
                DataSetId=dataset.quicksight_id,
                IngestionId=last.ingestion_id,
            )
        except ClientError:
            return False  # unknown to the service (or not served): rely on the coalesce window
        status = str(response.get("Ingestion", {}).get("IngestionStatus", ""))
        return status in RUNNING

    def finish(self, refreshed: list[Decision]) -> None:
        return None

    @property
    def region(self) -> str:
        return str(self.client.meta.region_name)

    def apply_data_sets(self, definitions: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Create each SPICE data set, or update it where it exists: (id, created|updated)."""
        applied = []
        for definition in definitions:
            data_set = definition["DataSetId"]
            try:
                self.client.create_data_set(AwsAccountId=self.account_id, **definition)
                applied.append((data_set, "created"))
                continue
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code != "ResourceExistsException":
                    raise RefreshError(
                        f"QuickSight refused data set {data_set!r} ({code}: "
                        f"{error.response.get('Error', {}).get('Message', '')}); check the data "
                        "source and the caller's quicksight:CreateDataSet permission"
                    ) from error
            changes = {k: v for k, v in definition.items() if k != "Permissions"}
            self.client.update_data_set(AwsAccountId=self.account_id, **changes)
            applied.append((data_set, "updated"))
        return applied
