import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")


@app.queue_trigger(arg_name="msg", queue_name="items", connection="AzureWebJobsStorage")
def process(msg: func.QueueMessage) -> None:
    pass
