"""The source-versus-warehouse checks can fail: on a copy of the warehouse with one landed
version deleted and another landed twice, they report exactly one lost and one duplicated row."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from .harness import REL_ROOT, RelWorld


def test_checks_see_a_lost_and_a_duplicated_version(
    rel: RelWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert all(d.ok for d in rel.diff_shop()), "the first load already differs"
    copy = REL_ROOT / f"{rel.settings.home.name}-tampered.duckdb"
    shutil.copyfile(rel.settings.warehouse, copy)
    try:
        con = duckdb.connect(str(copy))
        try:
            con.execute(
                "DELETE FROM raw_shop.orders WHERE order_id = (SELECT min(order_id) "
                "FROM raw_shop.orders)"
            )
            con.execute(
                "INSERT INTO raw_shop.payments SELECT * FROM raw_shop.payments "
                "WHERE payment_id = (SELECT max(payment_id) FROM raw_shop.payments) LIMIT 1"
            )
        finally:
            con.close()
        monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(copy))
        found = {d.table: (d.lost, d.duplicated) for d in rel.diff_shop() if not d.ok}
    finally:
        monkeypatch.delenv("BRIGHTCART_WAREHOUSE", raising=False)
        copy.unlink(missing_ok=True)
    assert found["raw_shop.payments"] == (0, 1)
    lost, dup = found["raw_shop.orders"]
    assert lost >= 1 and dup == 0  # every version of that order is gone
