from __future__ import annotations

from flask import g
from flask.views import MethodView
from api import fields, validate
from api.parsing import Blueprint
from api.schemas.base import Schema
from connectors import inbox, registry
from hub.extensions import db

blp = Blueprint("connections", __name__, url_prefix="/api/v1",
                description="Connections to МойСклад, Evotor, 1С and the inbox of what they send")


class ConnectionInSchema(Schema):
    # An Evotor user is linked only by Evotor's own cloud (user/create, user/verify): through
    # this API a tenant could claim another business's Evotor account.
    kind = fields.String(required=True, validate=validate.OneOf(
        [k for k in registry.KINDS if k != "evotor"],
        error="Подключение Эвотор создаётся установкой приложения в Эвотор.Маркете; "
              "здесь: moysklad или onec."))
    external_account = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    credentials = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    settings = fields.Dict(load_default=dict)


class ConnectionOutSchema(Schema):
    id = fields.String()
    kind = fields.String()
    name = fields.String()
    external_account = fields.String()
    status = fields.String()
    settings = fields.Dict()
    credentials_set = fields.List(fields.String())
    created_at = fields.String()
    inbound_token = fields.String(metadata={"description": "Shown once: the token the outside "
                                                           "system presents to the hub"})


class ConnectionListSchema(Schema):
    items = fields.List(fields.Nested(ConnectionOutSchema))


class EventSchema(Schema):
    id = fields.String()
    source = fields.String()
    kind = fields.String()
    dedupe_key = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "Why the event is not applied, "
                                                                     "in Russian, for the shop's owner"})
    received_at = fields.String()
    next_attempt_at = fields.String(allow_none=True)
    processed_at = fields.String(allow_none=True)


class EventListSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))


class EventQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(("received", "retry", "done", "failed")))
    source = fields.String(validate=validate.OneOf(registry.KINDS))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


@blp.route("/connections")
class Connections(MethodView):
    @blp.response(200, ConnectionListSchema)
    def get(self):
        return {"items": [registry.describe(c) for c in registry.list_connections(db.session, g.tenant_id)]}

    @blp.arguments(ConnectionInSchema)
    @blp.response(201, ConnectionOutSchema)
    def post(self, data):
        conn, token = registry.create_connection(db.session, g.tenant_id, **data)
        db.session.commit()
        return {**registry.describe(conn), "inbound_token": token}


@blp.route("/inbox")
class Inbox(MethodView):
    @blp.arguments(EventQuerySchema, location="query")
    @blp.response(200, EventListSchema)
    def get(self, query):
        return {"items": [inbox.describe(e) for e in inbox.list_events(
            db.session, g.tenant_id, query.get("status"), query.get("source"), query["limit"])]}


@blp.route("/inbox/<event_id>/retry")
class InboxRetry(MethodView):
    @blp.response(200, EventSchema)
    def post(self, event_id):
        return inbox.describe(inbox.retry_event(db.session, g.tenant_id, event_id))
