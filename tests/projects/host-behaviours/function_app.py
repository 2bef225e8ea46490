"""HTTP functions that exercise the emulated host: failures, noise, async, crashes, settings."""

import asyncio
import json
import logging
import os
import sys
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="boom")
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise ValueError("boom: secret detail that must not reach the client")


@app.route(route="noisy")
def noisy(req: func.HttpRequest) -> func.HttpResponse:
    print('{"id": 1, "ok": true, "response": null, "outputs": {}}')  # looks like a protocol reply
    os.write(1, b"raw bytes on file descriptor 1\n")
    sys.stdout.flush()
    logging.warning("noisy was called")
    return func.HttpResponse("quiet reply")


@app.route(route="later")
async def later(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(0.01)
    return func.HttpResponse(f"async {req.params.get('n', '?')}")


@app.route(route="crash")
def crash(req: func.HttpRequest) -> func.HttpResponse:
    os._exit(3)


@app.route(route="sleepy")
def sleepy(req: func.HttpRequest) -> func.HttpResponse:
    time.sleep(30)
    return func.HttpResponse("too late")


@app.route(route="environment")
def environment(req: func.HttpRequest) -> func.HttpResponse:
    names = ("GREETING", "FUNCPUB_HOST_TEST_SECRET", "AzureWebJobsScriptRoot")
    view = {name: os.environ.get(name) for name in names}
    view["cwd"] = os.getcwd()
    view["modules"] = sorted(m for m in ("requests", "funcpub", "pytest") if m in sys.modules)
    return func.HttpResponse(json.dumps(view), mimetype="application/json")


@app.route(route="items/{id:int}", methods=["GET"])
def item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(dict(req.route_params)), mimetype="application/json")


@app.route(route="echo", methods=["POST"])
def echo(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    headers = {
        "X-Method": req.method,
        "X-Test": req.headers.get("x-test", ""),
        "X-Function": context.function_name,
        "X-Invocation": context.invocation_id,
    }
    return func.HttpResponse(req.get_body(), status_code=201, headers=headers)


@app.route(route="text")
def text(req: func.HttpRequest) -> str:
    return "plain text"


@app.route(route="nothing")
def nothing(req: func.HttpRequest):
    return None


@app.route(route="raw")
def raw(req: func.HttpRequest):
    return b"raw bytes"


@app.function_name(name="tick")
@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
def tick(timer: func.TimerRequest) -> None:
    pass
