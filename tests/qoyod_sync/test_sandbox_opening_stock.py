from __future__ import annotations

from decimal import Decimal

import pytest

from qoyod_sync.client import QoyodReader, QoyodWriter
from qoyod_sync.sandbox import SandboxServer


@pytest.mark.parametrize(
    ("opening", "expected"), [(Decimal("0"), Decimal("0")), (Decimal("50"), Decimal("50"))]
)
def test_new_tracked_products_start_with_the_opening_stock(opening, expected):
    sandbox = SandboxServer(opening_stock=opening, keys=["demo-opening"]).start()
    try:
        writer = QoyodWriter(base_url=sandbox.base_url, api_key="demo-opening")
        created = writer.create_stock_product(
            sku="OIL-5W30", name_ar="زيت", name_en="Oil", selling_price=Decimal("140.00"),
            buying_price=Decimal("95.00"), tax_id=1, unit_id=1, category_id=2,
            sales_account_id=17,
            cogs_account_id=12,
        )  # fmt: skip
        service = writer.create_service_product(
            sku="LAB-1", name_ar="أجور", name_en="Labour", selling_price=Decimal("60.00"),
            tax_id=1, unit_id=2, category_id=1,
            sales_account_id=17,
        )  # fmt: skip
        reader = QoyodReader(base_url=sandbox.base_url, api_key="demo-opening")

        product = reader.get_product(created.id)
        assert [product.stock_at(w) for w in (1, 2)] == [expected, expected]
        assert reader.get_product(service.id).stock == ()
    finally:
        sandbox.stop()
