import azure.functions as func

from ..shared_code.words import exclaim


def main(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return func.HttpResponse(exclaim(f"{context.function_name} greets {req.route_params['who']}"))
