"""The QBO limiter's ledger in Redis, shared by every process on every machine.

Implements ``invoicebridge.qbo.limits.Ledger`` structurally; the rule is in that module's docstring. Each realm
has three sorted sets of tickets — requests and batch requests scored by ``until``, open slots scored by their
lease's end — changed only by two Lua scripts, so every admission is one atomic step whichever process runs it.
Times come from the Redis server's clock (``TIME``), the one clock every machine shares; the keys carry the
realm in a hash tag (``{realm}``), so all three live in one Redis Cluster slot, and expire once idle for a span
plus a lease.
"""

from __future__ import annotations

from typing import Any

import redis

from invoicebridge.store.limiter_sqlite import LimitNumbers

__all__ = ["RedisLedger"]

# KEYS: requests, batches, open. ARGV: ticket, batch (0/1), per_minute, batch_per_minute, concurrent, span,
# lease, poll. Returns "" when admitted, else the seconds worth waiting (a string: Lua numbers become integers).
_ADMIT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local span, lease, poll = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - span)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local function wait(key)
  local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
  if oldest > now then return tostring(poll) end
  return tostring(math.max(poll, oldest + span - now))
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return wait(KEYS[1]) end
local batch = ARGV[2] == '1'
if batch and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return wait(KEYS[2]) end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then return tostring(poll) end
local untl = now + lease
redis.call('ZADD', KEYS[1], untl, ARGV[1])
redis.call('ZADD', KEYS[3], untl, ARGV[1])
if batch then redis.call('ZADD', KEYS[2], untl, ARGV[1]) end
local idle = math.ceil((span + lease) * 1000)
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, idle) end
return ''
"""

# KEYS: requests, batches, open. ARGV: ticket. The slot is freed; the request counts for a span from now.
_RELEASE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
redis.call('ZADD', KEYS[2], 'XX', now, ARGV[1])
return 1
"""


class RedisLedger:
    """Admissions in Redis at ``url``; thread- and fork-safe as redis-py's connection pool is. ``poll_seconds``:
    how soon a request refused only for want of a concurrency slot asks again (each ask is a round trip)."""

    def __init__(
        self, url: str, rules: LimitNumbers, prefix: str = "invoicebridge:limits", poll_seconds: float = 0.05
    ) -> None:
        self.rules = rules
        self.prefix = prefix
        self._poll = poll_seconds
        self._redis = redis.Redis.from_url(url)
        self._admit: Any = self._redis.register_script(_ADMIT)  # redis-py types scripts loosely
        self._release: Any = self._redis.register_script(_RELEASE)

    def try_admit(self, realm_id: str, ticket: str, batch: bool) -> float | None:
        rules = self.rules
        args = [
            ticket, "1" if batch else "0", rules.per_minute, rules.batch_per_minute, rules.concurrent,
            repr(float(rules.span_seconds)), repr(float(rules.lease_seconds)), repr(float(self._poll)),
        ]  # fmt: skip
        answer = self._admit(keys=self._keys(realm_id), args=args)
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
        return float(text) if text else None

    def release(self, realm_id: str, ticket: str) -> None:
        self._release(keys=self._keys(realm_id), args=[ticket])

    def counts(self, realm_id: str) -> tuple[int, int, int]:
        """(requests counted, batch requests counted, slots held) for ``realm_id`` now."""
        seconds, micros = self._redis.time()
        now = seconds + micros / 1_000_000
        since = f"({now - self.rules.span_seconds!r}"  # exclusive: counted while until > now - span
        requests, batches, held = self._keys(realm_id)
        return (
            int(self._redis.zcount(requests, since, "+inf")),
            int(self._redis.zcount(batches, since, "+inf")),
            int(self._redis.zcount(held, f"({now!r}", "+inf")),
        )

    def forget(self, realm_id: str) -> None:
        """Drop every row of ``realm_id`` (tests)."""
        self._redis.delete(*self._keys(realm_id))

    def close(self) -> None:
        self._redis.close()

    def _keys(self, realm_id: str) -> list[str]:
        base = f"{self.prefix}:{{{realm_id}}}"
        return [f"{base}:requests", f"{base}:batches", f"{base}:open"]
