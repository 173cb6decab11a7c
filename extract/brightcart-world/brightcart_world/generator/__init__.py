"""The deterministic BrightCart data generator."""

from brightcart_world.generator.api import RunSummary, advance, generate, request_faults, reset
from brightcart_world.generator.faults import FaultSpec
from brightcart_world.generator.manifest import Manifest

__all__ = ["FaultSpec", "Manifest", "RunSummary", "advance", "generate", "request_faults", "reset"]
