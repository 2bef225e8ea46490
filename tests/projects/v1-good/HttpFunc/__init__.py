import azure.functions as func

from __app__.shared_code import greetings
from . import example


def main(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    name = req.params.get("name", "world")
    return func.HttpResponse(greetings.greet(name) + example.SUFFIX)
