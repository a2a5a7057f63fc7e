"""The overview: the month at a glance for everyone in the company (ScreenDep) — SOs invoiced and failed per
day as a small bar chart drawn here as SVG (no script; the same numbers in a table for screen readers), the
month's totals, the invoices failing now grouped by reason with links to their SOs, and the company's QBO
requests this month from the audit trail. The figures come from sync/overview.py, scoped by company."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from invoicebridge.bootstrap import utc_now
from invoicebridge.sync.overview import Month, Overview
from invoicebridge.web.auth import App
from invoicebridge.web.screens.layout import ScreenDep, show

router = APIRouter(include_in_schema=False)

# The chart's drawing, in SVG user units (the picture scales with the page; see overview.css).
WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 14, 28
LABELLED_DAYS = (1, 5, 10, 15, 20, 25, 30)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "invoiced" or "failed" (the CSS class that colours it)
    label: str  # a tooltip: "12 Nov: 4 SOs invoiced"


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str
    today: bool = False


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    days: tuple[Tick, ...]  # labels under the x axis
    levels: tuple[Tick, ...]  # gridlines and their labels on the y axis
    left: float
    right: float
    base: float  # the y of the x axis


@router.get("/c/{company_id}/overview", response_class=HTMLResponse)
def overview_page(request: Request, screen: ScreenDep, app: App) -> HTMLResponse:
    month = Overview(app.uow, utc_now).month(screen.company_id)
    return show(
        request, "screens/overview/page.html", screen, active="overview", month=month, chart=chart(month),
        title=month.first.strftime("%B %Y"),
    )  # fmt: skip


def chart(month: Month) -> Chart:
    """Two bars a day (invoiced, failed) over every day of the month, on a scale rounded up to 1, 2 or 5 × 10ⁿ."""
    top = _nice(max((max(d.invoiced, d.failed) for d in month.days), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / len(month.days)
    base = TOP + plot_height
    bars: list[Bar] = []
    for index, day in enumerate(month.days):
        x = LEFT + index * slot
        for offset, kind, count in ((0.12, "invoiced", day.invoiced), (0.5, "failed", day.failed)):
            if count:
                height = plot_height * count / top
                label = f"{day.day.day} {day.day:%b}: {count} SO{'s' if count > 1 else ''} {kind}"
                bars.append(Bar(_r(x + slot * offset), _r(base - height), _r(slot * 0.38), _r(height), kind, label))
    days = tuple(
        Tick(_r(LEFT + (d.day.day - 0.5) * slot), HEIGHT - 8, str(d.day.day), d.day == month.today)
        for d in month.days
        if d.day.day in LABELLED_DAYS
    )
    levels = tuple(Tick(LEFT - 6, _r(base - plot_height * v / top), str(v)) for v in _levels(top))
    return Chart(WIDTH, HEIGHT, tuple(bars), days, levels, LEFT, WIDTH - RIGHT, base)


def _nice(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… at least `value` (1 for an empty month)."""
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _levels(top: int) -> tuple[int, ...]:
    return (0, top // 2, top) if top % 2 == 0 and top > 1 else (0, top)


def _r(value: float) -> float:
    return round(value, 1)
