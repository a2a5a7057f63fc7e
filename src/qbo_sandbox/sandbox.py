"""One sandbox: every piece of state the HTTP layers share (companies, OAuth, throttle, webhooks, injected
faults), built once and handed to the route modules (no module-level state, so tests run many side by side)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from qbo_sandbox.backend import Backend
from qbo_sandbox.clock import Clock
from qbo_sandbox.injection import Injector
from qbo_sandbox.metering import Meter
from qbo_sandbox.oauth import OAuthRegistry
from qbo_sandbox.throttle import Limits, Throttle
from qbo_sandbox.webhooks import DEFAULT_RETRY_DELAYS, WebhookDispatcher


@dataclass(frozen=True)
class SandboxConfig:
    limits: Limits = field(default_factory=Limits.real)
    webhook_batch_window: float = 0.5  # seconds events wait to be batched with others (Intuit batches too)
    webhook_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS


class Sandbox:
    """The state behind one running sandbox."""

    def __init__(self, config: SandboxConfig | None = None, backend: Backend | None = None) -> None:
        self.config = config or SandboxConfig()
        self.backend = backend or Backend(Clock())
        self.clock = self.backend.clock
        self.registry = OAuthRegistry(now=self.clock)
        # the one-minute windows run on the sandbox clock: POST /_sandbox/clock/advance moves them on too
        self.throttle = Throttle(self.config.limits, now=lambda: self.clock().timestamp())
        self.injector = Injector()
        self.meter = Meter(self.clock)  # Core/CorePlus calls per app and month, and CorePlus caps
        self.webhooks = WebhookDispatcher(
            self.registry, batch_window=self.config.webhook_batch_window,
            retry_delays=self.config.webhook_retry_delays,
        )  # fmt: skip
        self.backend.subscribe(self.webhooks.notify)

    def start(self) -> None:
        self.webhooks.start()

    def stop(self) -> None:
        self.webhooks.stop()

    def reset(self) -> None:
        """Back to an empty sandbox: no companies, apps, tokens, rules, logs, meters or pending webhooks, and the limits
        the sandbox started with (whatever PUT /_sandbox/limits set since)."""
        self.webhooks.reset()
        self.backend.reset()
        self.registry.reset()
        self.throttle.reset()
        self.throttle.configure(self.config.limits)
        self.injector.reset()
        self.meter.reset()
        self.clock.reset()
