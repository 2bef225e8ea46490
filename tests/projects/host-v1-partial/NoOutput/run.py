import logging

import azure.functions as func


def handle(req: func.HttpRequest) -> None:
    logging.info("NoOutput received %d bytes", len(req.get_body()))
