"""How much data a scale means. scale=1.0 is 1:100 of production; CI uses about 0.002."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Volumes:
    """Daily volumes and entity counts derived from the scale factor."""

    scale: float

    def __post_init__(self) -> None:
        if not 0 < self.scale <= 5:
            raise ValueError(
                f"scale must be in (0, 5], got {self.scale}; 1.0 is 1:100 of production, "
                "0.002 is the CI size"
            )

    @property
    def orders_per_day(self) -> float:
        return 100_000 * self.scale

    @property
    def events_per_day(self) -> float:
        return 1_500_000 * self.scale

    @property
    def signups_without_order_per_day(self) -> float:
        return 20_000 * self.scale

    @property
    def sellers(self) -> int:
        return max(4, round(2_500 * self.scale))

    @property
    def products(self) -> int:
        return max(40, round(50_000 * self.scale))

    @property
    def initial_customers(self) -> int:
        return max(50, round(200_000 * self.scale))

    @property
    def campaigns(self) -> int:
        return max(6, min(60, round(300 * self.scale)))

    @property
    def leads(self) -> int:
        return max(20, round(20_000 * self.scale))

    @property
    def crm_edits_per_hour(self) -> float:
        return max(2.0, 500 * self.scale)

    @property
    def product_edits_per_hour(self) -> float:
        return max(0.5, 200 * self.scale)
