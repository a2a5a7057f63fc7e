"""The Jinja2 environment for the sandbox's HTML pages (consent page, web UI), built on demand."""

from __future__ import annotations

from typing import Any

import jinja2
from starlette.responses import HTMLResponse


def environment() -> jinja2.Environment:
    """A fresh environment loading ``qbo_sandbox/templates``, autoescaping HTML."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("qbo_sandbox", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
    )


def render(env: jinja2.Environment, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``name`` rendered with ``context`` as an HTML response."""
    return HTMLResponse(env.get_template(name).render(**context), status_code=status)
