"""Error pages for the browser."""

import logging

from flask import Response
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("crm.web")


def http_error_page(err: HTTPException) -> Response:
    return err.get_response()


def internal_error_page(err: Exception) -> Response:
    log.exception("Unhandled error", exc_info=err)
    return InternalServerError().get_response()
