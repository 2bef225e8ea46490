import azure.functions as func

app = func.FunctionApp()


@app.route(route="items/{id}", methods=["GET"])
def get_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("item")


@app.route(route="items/{id}", methods=["POST"])
def update_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("updated")


@app.route(route="/Items/{name}", methods=["get", "put"])
def find_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("found")
