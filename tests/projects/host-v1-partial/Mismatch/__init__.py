import azure.functions as func


def main(req: func.HttpRequest, extra: str) -> func.HttpResponse:
    return func.HttpResponse(extra)
