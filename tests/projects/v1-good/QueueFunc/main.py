import logging

import azure.functions as func

from ..shared_code.formatting import shout


async def handle(msg: func.QueueMessage, out: func.Out[str]) -> None:
    body = msg.get_body().decode()
    logging.info("processing %s", body)
    out.set(shout(body))
