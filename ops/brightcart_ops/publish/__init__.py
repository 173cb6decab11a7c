"""Publishing to the BI tool after a successful prod apply or run (see docs/publishing.md)."""

from brightcart_ops.publish.publisher import PublishReport, publish

__all__ = ["PublishReport", "publish"]
