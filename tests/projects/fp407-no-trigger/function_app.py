import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")


@app.function_name(name="orphan")
@app.queue_output(arg_name="msg", queue_name="q", connection="AzureWebJobsStorage")
def orphan(msg: func.Out[str]) -> None:
    msg.set("never")
