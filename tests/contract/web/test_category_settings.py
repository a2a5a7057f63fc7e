"""Product categories and their income accounts, and the no-tax code, through the API and the screens over HTTP:
products carry a category (API and the product form); the QuickBooks settings map categories to Income accounts
(`PUT …/qbo/settings`, the settings form) and refuse, field by field, what is not one; a 0 % rate shows mapped to
the no-tax code. What is stored is read back from the use cases, what QuickBooks holds from the sandbox."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from tests.contract.invoicing.conftest import World, WorldFactory, make_world  # noqa: F401 — the fixture
from tests.contract.invoicing.test_categories import income_account
from tests.contract.web.test_errors import assert_error_shape
from tests.contract.web.test_quickbooks_pages import Page, accounts, page_of, saved

from invoicebridge.domain import PageRequest


def problems(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    assert_error_shape(answer.json(), "validation_error")
    return {p["field"]: p["message"] for p in answer.json()["error"]["problems"]}


def settings_body(world: World, **changes: object) -> dict[str, object]:
    current = saved(world)
    return {"revenue_account_id": current.revenue_account_id,
            "tax_mapping": {str(k): v for k, v in current.tax_mapping.items()}, **changes}  # fmt: skip


# -- products ------------------------------------------------------------------------------------------------------
def test_the_products_api_keeps_a_category_trimmed_and_clears_it(api: TestClient, company: int) -> None:
    base = f"/api/companies/{company}/products"
    made = api.post(base, json={"sku": "G-1", "name": "Rake", "sales_price": "9.50", "category": "  Garden "})
    assert made.status_code == 201, made.text
    assert made.json()["category"] == "Garden"
    assert api.get(f"{base}/{made.json()['id']}").json()["category"] == "Garden"
    assert [p["category"] for p in api.get(base).json()["items"]] == ["Garden"]
    plain = api.post(base, json={"sku": "P-1", "name": "Plain", "sales_price": "1"})
    assert plain.json()["category"] is None
    cleared = api.patch(f"{base}/{made.json()['id']}", json={"category": None})
    assert cleared.status_code == 200 and cleared.json()["category"] is None
    assert api.patch(f"{base}/{made.json()['id']}", json={"category": "Tools"}).json()["category"] == "Tools"


def test_a_category_that_is_not_one_is_refused_and_nothing_is_stored(api: TestClient, company: int) -> None:
    base = f"/api/companies/{company}/products"
    refused = api.post(base, json={"sku": "G-2", "name": "Hoe", "sales_price": "1", "category": "x" * 101})
    assert problems(refused) == {"category": "The category is longer than QuickBooks allows (100 characters)."}
    assert api.get(base).json()["items"] == []
    made = api.post(base, json={"sku": "G-2", "name": "Hoe", "sales_price": "1", "category": "Garden"}).json()
    bad = api.patch(f"{base}/{made['id']}", json={"category": "Garden\u200b"})
    assert problems(bad) == {"category": "The category contains characters that cannot be shown."}
    assert api.get(f"{base}/{made['id']}").json()["category"] == "Garden"


def test_the_product_form_saves_a_category_and_the_list_shows_it(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", serve=True)
    client = world.browser("seller@books.example", "member")
    sent = {"sku": "FORM-1", "name": "Trowel", "sales_price": "4.00", "unit_cost": "", "category": " Garden "}
    assert client.post(f"/c/{world.company_id}/products/new", data=sent).status_code == 303  # saved: to the list
    (made,) = world.app.orderbook.list_products(world.company_id, PageRequest()).items
    assert made.category == "Garden"
    assert "Garden" in Page(client.get(f"/c/{world.company_id}/products").text).text
    refused = client.post(f"/c/{world.company_id}/products/{made.id}/edit", data=sent | {"category": "x" * 101})
    assert refused.status_code == 422
    assert "The category is longer than QuickBooks allows (100 characters)." in Page(refused.text).text
    assert world.app.orderbook.get_product(world.company_id, made.id or 0).category == "Garden"


# -- the settings API ----------------------------------------------------------------------------------------------
def test_the_settings_api_saves_income_accounts_per_category(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("GB", serve=True)
    world.app.orderbook.create_product(world.company_id, "API-1", "Rake", "1", "0", "Garden")
    admin = world.api("admin")
    choices = admin.get(f"/api/companies/{world.company_id}/qbo/choices").json()
    assert choices["categories"] == ["Garden"]
    no_vat = next(c["id"] for c in choices["tax_codes"] if c["name"] == "No VAT")
    assert choices["no_tax_code_id"] == no_vat
    garden = income_account(world, "Garden sales")
    answer = admin.put(f"/api/companies/{world.company_id}/qbo/settings",
                       json=settings_body(world, category_accounts={"Garden": garden}))  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["settings"]["category_accounts"] == {"Garden": garden}
    assert answer.json()["settings"]["no_tax_code_id"] == no_vat
    assert saved(world).category_accounts == {"Garden": garden}
    shown = admin.get(f"/api/companies/{world.company_id}/qbo").json()["settings"]
    assert shown["category_accounts"] == {"Garden": garden}


def test_the_settings_api_refuses_what_is_not_an_income_account_or_a_category(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("GB", serve=True)
    before = saved(world)
    cogs = accounts(world)["Cost of Goods Sold"]
    body = settings_body(world, category_accounts={"Garden": cogs, "Books": "999999", " Toys": cogs, "": cogs})
    answer = world.api("admin").put(f"/api/companies/{world.company_id}/qbo/settings", json=body)
    assert problems(answer) == {
        "category_accounts.Garden": f"Account {cogs} is not an active Income account in QuickBooks.",
        "category_accounts.Books": "Account 999999 is not an active Income account in QuickBooks.",
        "category_accounts. Toys": "Write the category as the products carry it, without spaces around it.",
        "category_accounts.": "Name the category.",
    }
    assert saved(world) == before
    member = world.api("member").put(f"/api/companies/{world.company_id}/qbo/settings", json=settings_body(world))
    assert member.status_code == 403


def test_a_zero_rate_left_out_of_the_settings_api_is_mapped_to_the_no_tax_code(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("GB", serve=True)
    taxed, zero = world.rates
    body = settings_body(world, tax_mapping={str(taxed.id): saved(world).tax_mapping[taxed.id or 0]})
    answer = world.api("admin").put(f"/api/companies/{world.company_id}/qbo/settings", json=body)
    assert answer.status_code == 200, answer.text
    no_vat = next(c["Id"] for c in world.qbo_rows("SELECT * FROM TaxCode MAXRESULTS 1000") if c["Name"] == "No VAT")
    assert answer.json()["settings"]["tax_mapping"][str(zero.id)] == no_vat


# -- the settings screen -------------------------------------------------------------------------------------------
def test_the_settings_form_chooses_a_categorys_account_and_refuses_one_beside_it(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("GB", serve=True)
    for sku, category in (("S-1", "Garden"), ("S-2", "Books"), ("S-3", None)):
        world.app.orderbook.create_product(world.company_id, sku, f"Thing {sku}", "1", "0", category)
    admin = world.browser()
    page = Page(admin.get(page_of(world)).text)
    assert "Income accounts by product category" in page.text
    assert "category_accounts.Books" not in page.chosen and "category_accounts.Garden" not in page.chosen
    current = saved(world)
    form = {"revenue_account_id": current.revenue_account_id or "", "mode": "plain",
            **{f"tax_mapping.{k}": v for k, v in current.tax_mapping.items()}}  # fmt: skip
    cogs = accounts(world)["Cost of Goods Sold"]
    refused = admin.post(f"{page_of(world)}/settings", data=form | {"category_accounts.Garden": cogs})
    assert refused.status_code == 422
    shown = Page(refused.text)
    assert shown.errors["category-2"] == f"Account {cogs} is not an active Income account in QuickBooks."
    assert shown.chosen["category_accounts.Garden"] == cogs  # what the admin chose is kept
    assert saved(world) == current

    garden = income_account(world, "Garden sales")
    done = admin.post(f"{page_of(world)}/settings", data=form | {"category_accounts.Garden": garden,
                                                                 "category_accounts.Books": ""})  # fmt: skip
    assert done.status_code == 303, done.text
    assert saved(world).category_accounts == {"Garden": garden}
    again = Page(admin.get(done.headers["location"]).text)
    assert "The settings were saved." in again.text
    assert again.chosen["category_accounts.Garden"] == garden and "category_accounts.Books" not in again.chosen


def test_the_settings_form_shows_a_new_zero_rate_mapped_to_the_no_tax_code(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("GB", serve=True)
    later = world.app.orderbook.create_tax_rate(world.company_id, "Out of scope", "0")
    page = Page(world.browser().get(page_of(world)).text)
    no_vat = next(c["Id"] for c in world.qbo_rows("SELECT * FROM TaxCode MAXRESULTS 1000") if c["Name"] == "No VAT")
    assert page.chosen[f"tax_mapping.{later.id}"] == no_vat
    assert "A 0 % rate takes the QuickBooks company's no-tax code (No VAT) unless you choose another." in page.text
    assert "Invoicing is ready" in page.text  # the new rate blocks nothing
    assert later.id not in saved(world).tax_mapping  # viewing the page stores nothing


def test_the_settings_api_refuses_a_misspelt_field_or_a_word_for_a_switch_and_saves_nothing(
    make_world: WorldFactory,  # noqa: F811
) -> None:
    world = make_world("GB", serve=True)
    before = saved(world)
    admin = world.api("admin")
    for odd in ({"track_payment": True}, {"track_payments": "yes"}, {"offer_link_duplicates": 1}):
        answer = admin.put(f"/api/companies/{world.company_id}/qbo/settings", json=settings_body(world, **odd))
        assert problems(answer), odd  # 422 in the one error shape, naming the field
    assert saved(world) == before
