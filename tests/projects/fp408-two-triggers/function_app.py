import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")


@app.route(route="both")
@app.timer_trigger(schedule="0 0 * * * *", arg_name="timer")
def both(req: func.HttpRequest, timer: func.TimerRequest) -> func.HttpResponse:
    return func.HttpResponse("both")
