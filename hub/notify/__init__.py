"""Customer messaging (issue 10): the outbox, templates, channels, consent and delivery.

Callers write messages with `hub.notify.outbox.enqueue(session, ...)` (or a batch with
`enqueue_many`) inside their own transaction; delivery happens after the commit (rq worker when
REDIS_URL is set, after the response otherwise) and the sweep retries anything due, so a sale
never waits for or fails because of a message. This __init__ imports nothing.
"""
