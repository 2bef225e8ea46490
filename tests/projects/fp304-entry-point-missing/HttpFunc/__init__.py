import azure.functions as func


def handler(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
