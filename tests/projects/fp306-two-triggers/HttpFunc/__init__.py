import azure.functions as func


def main(req: func.HttpRequest, msg: func.QueueMessage) -> func.HttpResponse:
    return func.HttpResponse("hello")
