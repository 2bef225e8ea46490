import azure.functions as func

import example


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(example.TEXT)
