"""Start, stop and check the local BrightCart sources (PostgreSQL, S3 API server, Salesforce)."""

from brightcart_world.sources.manager import LocalSources
from brightcart_world.sources.model import ComponentStatus, Outcome, SourcesError

__all__ = ["ComponentStatus", "LocalSources", "Outcome", "SourcesError"]
