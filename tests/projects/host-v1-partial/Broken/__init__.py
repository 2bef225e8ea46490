import azure.functions as func
import missing_dependency_xyz  # never installed anywhere


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(missing_dependency_xyz.VALUE)
