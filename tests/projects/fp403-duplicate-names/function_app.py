import azure.functions as func

app = func.FunctionApp()


@app.function_name(name="hello")
@app.route(route="hello")
def hello_http(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")


@app.function_name("Hello")
@app.schedule(schedule="0 */5 * * * *", arg_name="timer")
def hello_timer(timer: func.TimerRequest) -> None:
    pass
