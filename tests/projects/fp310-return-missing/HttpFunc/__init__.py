import logging

import azure.functions as func


def main(req: func.HttpRequest) -> None:
    def helper() -> str:
        return "nested returns do not count"

    logging.info(helper())
