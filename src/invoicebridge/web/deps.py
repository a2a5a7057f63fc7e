"""Dependencies the routes declare (FastAPI `Annotated` style); the container lives on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from invoicebridge.domain import PageRequest
from invoicebridge.jobs.tasks import Jobs
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.web.auth import MAX_ID


def get_orderbook(request: Request) -> OrderBook:
    orderbook: OrderBook = request.app.state.container.orderbook
    return orderbook


def get_jobs(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.container.jobs
    return jobs


def get_page(
    limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 50,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="the next_after of the previous page")] = None,
) -> PageRequest:
    return PageRequest(limit=limit, after=after)


Book = Annotated[OrderBook, Depends(get_orderbook)]
Paging = Annotated[PageRequest, Depends(get_page)]
JobQueue = Annotated[Jobs, Depends(get_jobs)]
