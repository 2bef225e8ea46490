import azure.functions as func

from blueprints.items import bp
from shared import text

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(bp)


@app.route(route="hello/{name}", methods=[func.HttpMethod.GET])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(text.greet(req.route_params["name"]))


@app.function_name(name="nightly")
@app.timer_trigger(schedule="0 0 3 * * *", arg_name="timer", run_on_startup=False)
def cleanup(timer: func.TimerRequest) -> None:
    pass
