from __future__ import annotations

from flask import g
from flask.views import MethodView

from api.parsing import Blueprint
from api.schemas.program import ProgramSchema
from hub.extensions import db
from hub.programs.operations import load_settings, put_program

blp = Blueprint("program", __name__, url_prefix="/api/v1/program",
                description="The tenant's loyalty program settings")


@blp.route("")
class ProgramResource(MethodView):
    @blp.response(200, ProgramSchema)
    def get(self):
        settings, _ = load_settings(db.session, g.tenant_id)
        return settings

    @blp.arguments(ProgramSchema)
    @blp.response(200, ProgramSchema)
    def put(self, settings):
        return put_program(db.session, g.tenant_id, settings)
