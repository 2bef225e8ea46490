import azure.functions as func

from ...outside import thing


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(thing)
