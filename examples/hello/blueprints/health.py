"""A blueprint with a health probe, registered by function_app.py."""

import json

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """Report that the app is up."""
    return func.HttpResponse(json.dumps({"status": "ok"}), mimetype="application/json")
