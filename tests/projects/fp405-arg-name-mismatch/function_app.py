import azure.functions as func

app = func.FunctionApp()


@app.route(route="enqueue")
@app.queue_output(arg_name="msg", queue_name="q", connection="AzureWebJobsStorage")
def enqueue(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("queued")
