"""The webhook receiver (tests/webhook_receiver.py) as a fixture: a real HTTP server in a thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.webhook_receiver import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state
