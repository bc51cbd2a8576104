"""One `kopilka automation run` delivers the messages it queued (issue 17, item 10): the
delivery sweep runs after the sweeps that write messages, whatever the import order, so a
win-back SMS granted by a daily cron's run goes out in that run, not a day later with the next."""
from __future__ import annotations

import responses
from sqlalchemy import create_engine

from hub.automation.chains import save_chain
from hub.clock import frozen
from hub.notify import registry
from hub import sweeps as automation
from hub.sweeps import run_due
from tests.automation.conftest import msk
from tests.notify.conftest import smsru_ok


def test_one_run_sends_the_winback_sms_it_granted(world):
    s = world.session
    registry.configure(s, world.t, "smsru", credentials={"api_id": "K"})
    s.commit()
    lapsed = world.customer(msk(2026, 1, 1), phone="+79161234567", consents={"sms": True})
    world.sale(lapsed, msk(2026, 1, 10, 12), rub=900)
    save_chain(s, world.t, {"name": "Вернуть", "audience": {"purchase_count_min": 1, "purchase_count_max": 1},
                            "steps": [{"days": 66, "amount": 10000, "valid_days": 7}]}, msk(2026, 1, 1))
    s.commit()
    at = msk(2026, 3, 17, 12)                    # day 66, noon in Moscow: no quiet hours
    with frozen(at), responses.RequestsMock() as rsps:
        smsru_ok(rsps, sms_id="wb-1")
        result = run_due(s, at, world.t)         # what `kopilka automation run --tenant` runs
        assert len(rsps.calls) >= 1              # the gateway was called in this very run
    # The win-back SMS (and the January sale's own message, left for a sweep) went out.
    assert result["automation"]["winback"] == 1 and result["notify"] >= 1
    [msg] = world.messages("winback")
    s.refresh(msg)
    assert (msg.status, msg.provider_message_id, msg.channel) == ("sent", "wb-1", "sms")


def test_delivery_runs_after_the_sweeps_registered_after_it(monkeypatch):
    """The order of imports registered `notify` before `automation`: a run sent nothing it queued."""
    calls = []
    monkeypatch.setattr(automation, "_sweeps", {})
    automation.register_sweep("deliver", lambda session, at: calls.append("deliver") or 0, last=True)
    automation.register_sweep("queue_a", lambda session, at: calls.append("queue_a") or 0)
    automation.register_sweep("queue_b", lambda session, at: calls.append("queue_b") or 0)

    class Session:
        def scalars(self, _stmt):
            return []

        def rollback(self) -> None:
            pass

        def get_bind(self):
            return create_engine("sqlite://")      # no advisory locks: a single process
    run_due(Session(), msk(2026, 3, 17, 12))
    assert calls == ["queue_a", "queue_b", "deliver"]
