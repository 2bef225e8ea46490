import azure.functions as func


def main(req: func.HttpRequest,
         msg: str) -> func.HttpResponse:
    return func.HttpResponse("queued")
