import azure.functions as func

from __app__.shared_code import helpers
from . import missing


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(helpers.NAME + missing.NAME)
