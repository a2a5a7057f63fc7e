"""Holding a claim up to the moment its create goes out. A sweeper takes over a claim whose worker looks dead —
no progress in its history for `stale_after` — and looks the invoice up before making it. A worker that was only
waiting (for the company's share of QBO's rate limit, which may take a minute) must then not send as well: so,
once the limiter lets the request go and right before it does, the worker notes in the claim's history that it is
sending — which tells the sweeper it is alive — and finds out whether the claim is still its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from invoicebridge.sync.ports import UnitOfWorkFactory


class ClaimLost(Exception):  # not an error of QBO's or the user's: a hand-over between workers
    """A sweeper took these claims over while this worker waited: it makes those invoices itself (looking them up
    first), and this worker must neither send nor record anything for them."""

    def __init__(self, keys: set[tuple[int, int]]) -> None:
        self.keys = keys
        super().__init__(f"{len(keys)} claim(s) taken over by a sweeper: {sorted(keys)[:5]}")


def hold(
    uow: UnitOfWorkFactory, company_id: int, claims: Sequence[tuple[int, int, str]], now: Callable[[], datetime],
    note: str,
) -> None:  # fmt: skip
    """Mark these (SO id, invoice number, request id) claims as sending now; ClaimLost names those taken over."""
    with uow() as work:
        held = work.invoice_links.mark_sending(company_id, claims, now(), note)
        work.commit()
    lost = {(so_id, number) for so_id, number, _ in claims} - held
    if lost:
        raise ClaimLost(lost)
