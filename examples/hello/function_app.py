"""The example app: an HTTP greeting plus the functions of a blueprint (v2 programming model)."""

import azure.functions as func

from blueprints.health import bp as health_blueprint
from shared.greeting import greet

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(health_blueprint)


@app.function_name(name="hello")
@app.route(route="hello", methods=["GET", "POST"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    """Greet the caller by the `name` query parameter or JSON body field (default: world)."""
    name = req.params.get("name")
    if not name and req.get_body():
        try:
            name = req.get_json().get("name")
        except (ValueError, AttributeError):
            return func.HttpResponse("The body must be a JSON object.", status_code=400)
    return func.HttpResponse(greet(name or "world"))
