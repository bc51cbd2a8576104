"""Automation through the API: gift triggers and warnings, win-back chains and the gift
proposal, segments, referrals, mailings and per-mechanic results."""
from __future__ import annotations

from datetime import timedelta

from flask import g, request
from flask.views import MethodView
from sqlalchemy import select

from api.parsing import Blueprint
from api.schemas.automation import (
    AutomationSettingsSchema, ChainInSchema, ChainListSchema, ChainSchema, EstimateSchema, MailingInSchema,
    MailingSchema, ProposalQuerySchema, ProposalSchema, ReferralCodeSchema, ReferralInSchema, ReferralSchema,
    SegmentInSchema, SegmentListSchema, SegmentSchema, StatsQuerySchema, StatsSchema,
)
from hub.automation import chains, mailings, referrals, segments, settings as auto_settings
from hub.automation.stats import mechanic_stats
from hub.extensions import db
from hub.automation.models import Segment, WinbackChain
from hub.moments import utcnow
from hub.programs.operations import get_program
from api.auth import require_tenant
from api.parsing import reject_unstorable_url
from hub.errors import Invalid

blp = Blueprint("automation", __name__, url_prefix="/api/v1/automation",
                description="Automation: gift bonuses, win-back chains, segments, referrals, mailings")


def register(api) -> None:
    """Register the blueprint with the API's own guards (one line in api/__init__.py)."""
    blp.before_request(reject_unstorable_url)
    blp.before_request(require_tenant)
    api.register_blueprint(blp)


def _tz() -> str:
    return get_program(db.session, g.tenant_id).timezone


@blp.route("/settings")
class SettingsResource(MethodView):
    @blp.response(200, AutomationSettingsSchema)
    def get(self):
        return auto_settings.load(db.session, g.tenant_id)

    @blp.arguments(AutomationSettingsSchema)
    @blp.response(200, AutomationSettingsSchema)
    def put(self, data):
        return auto_settings.save(db.session, g.tenant_id, data, utcnow())


@blp.route("/chains")
class Chains(MethodView):
    @blp.response(200, ChainListSchema)
    def get(self):
        return {"items": db.session.scalars(select(WinbackChain).where(WinbackChain.tenant_id == g.tenant_id)
                                            .order_by(WinbackChain.created_at)).all()}

    @blp.arguments(ChainInSchema)
    @blp.response(201, ChainSchema)
    def post(self, data):
        return chains.save_chain(db.session, g.tenant_id, data, utcnow())


@blp.route("/chains/<chain_id>")
class ChainResource(MethodView):
    @blp.response(200, ChainSchema)
    def get(self, chain_id):
        return chains.get_chain(db.session, g.tenant_id, chain_id)

    @blp.arguments(ChainInSchema)
    @blp.response(200, ChainSchema)
    def put(self, data, chain_id):
        return chains.save_chain(db.session, g.tenant_id, data, utcnow(), chain_id)

    @blp.response(204)
    def delete(self, chain_id):
        db.session.delete(chains.get_chain(db.session, g.tenant_id, chain_id))
        db.session.commit()


@blp.route("/winback/proposal")
class Proposal(MethodView):
    @blp.arguments(ProposalQuerySchema, location="query")
    @blp.response(200, ProposalSchema)
    def get(self, query):
        check = query.get("average_check")
        if check is None:
            check = chains.average_check(db.session, g.tenant_id, utcnow())
        return {"average_check": check, "margin_percent": query["margin_percent"],
                "share_percent": query["share_percent"],
                "gift": chains.propose_gift(check, query["margin_percent"], query["share_percent"])}


def _segment_out(seg: Segment) -> dict:
    return {"id": seg.id, "name": seg.name, "filters": seg.filters, "created_at": seg.created_at,
            "count": segments.count_members(db.session, g.tenant_id, seg.filters, utcnow(), _tz())}


@blp.route("/segments")
class Segments(MethodView):
    @blp.response(200, SegmentListSchema)
    def get(self):
        counts = segments.segment_counts(db.session, g.tenant_id)
        custom = db.session.scalars(select(Segment).where(Segment.tenant_id == g.tenant_id)
                                    .order_by(Segment.created_at)).all()
        return {"rfm": [{"code": k, **v} for k, v in counts.items()], "custom": [_segment_out(s) for s in custom]}

    @blp.arguments(SegmentInSchema)
    @blp.response(201, SegmentSchema)
    def post(self, data):
        seg = segments.create_segment(db.session, g.tenant_id, data["name"], data.get("filters"), g.actor)
        db.session.commit()
        return _segment_out(seg)


@blp.route("/segments/<segment_id>")
class SegmentResource(MethodView):
    @blp.response(200, SegmentSchema)
    def get(self, segment_id):
        return _segment_out(segments.get_segment(db.session, g.tenant_id, segment_id))

    @blp.arguments(SegmentInSchema)
    @blp.response(200, SegmentSchema)
    def put(self, data, segment_id):
        seg = segments.get_segment(db.session, g.tenant_id, segment_id)
        filters = segments.check_audience(db.session, g.tenant_id, data.get("filters") or {})
        if filters.get("segment_id") == seg.id:
            raise Invalid("invalid_filter", "Сегмент не может ссылаться на себя.", {"filters.segment_id": ["ссылка на себя"]})
        seg.name, seg.filters = data["name"], filters
        db.session.commit()
        return _segment_out(seg)

    @blp.response(204)
    def delete(self, segment_id):
        db.session.delete(segments.get_segment(db.session, g.tenant_id, segment_id))
        db.session.commit()


@blp.route("/referrals")
class Referrals(MethodView):
    @blp.arguments(ReferralInSchema)
    @blp.response(201, ReferralSchema)
    def post(self, data):
        return referrals.attach(db.session, g.tenant_id, data["customer_id"], data["inviter"], utcnow())


@blp.route("/referrals/code/<customer_id>")
class ReferralCode(MethodView):
    @blp.response(200, ReferralCodeSchema)
    def get(self, customer_id):
        code = referrals.referral_code(db.session, g.tenant_id, customer_id)
        return {"customer_id": customer_id, "code": code,
                "link": referrals.invitation_link(request.host_url, g.tenant_id, code)}


def _mailing_out(m, estimate: dict | None = None, queued: int | None = None) -> dict:
    out = {"id": m.id, "name": m.name, "audience": m.audience, "text": m.text, "gift": m.gift,
           "scheduled_at": m.scheduled_at, "status": m.status, "recipients": m.recipients,
           "estimated_cost": m.estimated_cost, "sent_at": m.sent_at}
    if estimate is not None:
        out["estimate"] = estimate
    if queued is not None:
        out["queued"] = queued
    return out


@blp.route("/mailings")
class Mailings(MethodView):
    @blp.arguments(MailingInSchema)
    @blp.response(201, MailingSchema)
    def post(self, data):
        mailing, est = mailings.create_mailing(db.session, g.tenant_id, data, utcnow())
        return _mailing_out(mailing, est)


@blp.route("/mailings/estimate")
class MailingEstimate(MethodView):
    @blp.arguments(MailingInSchema)
    @blp.response(200, EstimateSchema)
    def post(self, data):
        return mailings.estimate(db.session, g.tenant_id,
                                 segments.check_audience(db.session, g.tenant_id, data.get("audience") or {}),
                                 data["text"], utcnow())


@blp.route("/mailings/<mailing_id>")
class MailingResource(MethodView):
    @blp.response(200, MailingSchema)
    def get(self, mailing_id):
        return _mailing_out(mailings.get_mailing(db.session, g.tenant_id, mailing_id))


@blp.route("/mailings/<mailing_id>/send")
class MailingSend(MethodView):
    @blp.response(200, MailingSchema)
    def post(self, mailing_id):
        result = mailings.send_mailing(db.session, g.tenant_id, mailing_id, utcnow())
        return _mailing_out(mailings.get_mailing(db.session, g.tenant_id, mailing_id), queued=result["queued"])


@blp.route("/stats")
class Stats(MethodView):
    @blp.arguments(StatsQuerySchema, location="query")
    @blp.response(200, StatsSchema)
    def get(self, query):
        until = query.get("until") or utcnow()
        since = query.get("since") or until - timedelta(days=30)
        if since.tzinfo is None or until.tzinfo is None:
            from zoneinfo import ZoneInfo
            since = since if since.tzinfo else since.replace(tzinfo=ZoneInfo(_tz()))
            until = until if until.tzinfo else until.replace(tzinfo=ZoneInfo(_tz()))
        return {"items": mechanic_stats(db.session, g.tenant_id, since, until)}
