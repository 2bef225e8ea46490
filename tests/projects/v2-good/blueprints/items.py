import azure.functions as func

bp = func.Blueprint()


@bp.route(route="items", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.queue_output(arg_name="msg", queue_name="items", connection="AzureWebJobsStorage")
def add_item(req: func.HttpRequest, msg: func.Out[str]) -> func.HttpResponse:
    msg.set(req.get_body().decode())
    return func.HttpResponse(status_code=202)


@bp.queue_trigger(arg_name="msg", queue_name="items", connection="AzureWebJobsStorage")
async def process_item(msg: func.QueueMessage, context: func.Context) -> None:
    pass
