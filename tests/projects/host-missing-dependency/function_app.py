"""Imports requests but forgot to list it in requirements.txt: Azure finds 0 functions."""

import azure.functions as func
import requests

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="version", methods=["GET"])
def version(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"requests {requests.__version__}")
