"""Public REST API v1: api.app registers its blueprints and serves the OpenAPI document; views
and schemas live in api.views and api.schemas. This __init__ imports nothing, so that a schema
importing api.fields never imports the views."""
