"""Customer messaging (issue 10): the outbox, templates, channels, consent and delivery.

Callers write messages with `enqueue(session, ...)` (or a batch with `enqueue_many`) inside
their own transaction; delivery happens after the commit (rq worker when REDIS_URL is set,
inline otherwise) and the sweep retries anything due, so a sale never waits for or fails
because of a message.
"""
from hub.notify.outbox import code_problem, enqueue, enqueue_many, send_code
from hub.notify.templates import TOPICS
from hub.notify import delivery as _delivery

_delivery.register()

__all__ = ["enqueue", "enqueue_many", "send_code", "code_problem", "TOPICS"]
