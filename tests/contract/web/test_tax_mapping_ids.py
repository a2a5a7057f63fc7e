"""The tax mapping names only the company's own tax rates (issue 9): another company's rate, or a rate that does
not exist, is refused field by field (422) and the settings stay as they were."""

from __future__ import annotations

import pytest
from tests.contract.invoicing.conftest import WorldFactory, make_world  # noqa: F401 — the fixture, used below
from tests.contract.web.test_errors import assert_error_shape

from invoicebridge.domain import ValidationError
from invoicebridge.domain.connection import ConnectionSettings


def test_a_mapping_with_another_companys_rate_or_none_is_refused(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US")
    other = world.app.orderbook.create_company("Other Co", "USD", "America/New_York").id or 0
    foreign = world.app.orderbook.create_tax_rate(other, "Their tax", "5").id or 0
    saved = world.app.connecting.connection(world.company_id)
    assert saved is not None
    own = dict(saved.settings.tax_mapping)

    bad = ConnectionSettings(saved.settings.revenue_account_id, {**own, foreign: "TAX", 987_654: "NON"})
    with pytest.raises(ValidationError) as caught:
        world.app.connecting.save_settings(world.company_id, bad)
    assert {p.field: p.message for p in caught.value.problems} == {
        f"tax_mapping.{foreign}": f"There is no tax rate {foreign} in this company.",
        "tax_mapping.987654": "There is no tax rate 987654 in this company.",
    }
    after = world.app.connecting.connection(world.company_id)
    assert after is not None and dict(after.settings.tax_mapping) == own


def test_the_settings_api_refuses_another_companys_rate(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", serve=True)
    other = world.app.orderbook.create_company("Other Co", "USD", "America/New_York").id or 0
    foreign = world.app.orderbook.create_tax_rate(other, "Their tax", "5").id or 0
    saved = world.app.connecting.connection(world.company_id)
    assert saved is not None
    mapping = {str(rate): code for rate, code in saved.settings.tax_mapping.items()}
    body = {"revenue_account_id": saved.settings.revenue_account_id, "tax_mapping": {**mapping, str(foreign): "TAX"}}
    answer = world.browser().put(f"/api/companies/{world.company_id}/qbo/settings", json=body)
    assert answer.status_code == 422, answer.text
    assert_error_shape(answer.json(), "validation_error")
    assert [p["field"] for p in answer.json()["error"]["problems"]] == [f"tax_mapping.{foreign}"]
