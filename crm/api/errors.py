"""The one error envelope of the API: {"error": {"code", "message", "details"?}}."""

from __future__ import annotations

import logging

import orjson
from flask import Flask, Response, current_app, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from crm.fields import flatten_errors
from crm.services.errors import AmbiguousReference, NotFound, PreconditionFailed, ValidationFailed

log = logging.getLogger("crm.api")

HTTP_CODES = {
    400: ("invalid_json", "The request body is not valid JSON."),
    401: ("unauthorized", "A valid API key is required (X-Api-Key or Authorization: Bearer)."),
    403: ("insufficient_permissions", "The API key lacks the permission for this request."),
    404: ("not_found", "No such resource."),
    405: ("method_not_allowed", "This method is not allowed on this resource."),
    409: ("idempotency_in_progress", "A request with this Idempotency-Key is still being processed."),
    412: ("precondition_failed", "The record has changed since you read it (If-Match does not match)."),
    413: ("payload_too_large", "The request body is larger than 1 MiB."),
    415: ("unsupported_media_type", "The request body must be application/json."),
    422: ("idempotency_key_reused", "This Idempotency-Key was used with a different request."),
    429: ("rate_limited", "Too many requests for this API key; retry later."),
    500: ("internal_error", "Something went wrong on our side. It has been logged."),
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None) -> Response:
    body: dict = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    response = current_app.response_class(orjson.dumps({"error": body}), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_response(details: dict, message: str = "The request has invalid fields.") -> Response:
    return error_response(400, "validation_error", message, details)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def on_api_error(err: ApiError):
        return error_response(err.status, err.code, err.message, err.details, err.headers)

    @app.errorhandler(ValidationError)
    def on_marshmallow_error(err: ValidationError):
        return validation_response(flatten_errors(err.messages))

    @app.errorhandler(ValidationFailed)
    def on_validation_failed(err: ValidationFailed):
        return validation_response(err.details, err.message)

    @app.errorhandler(AmbiguousReference)
    def on_ambiguous(err: AmbiguousReference):
        return error_response(400, "ambiguous_reference", err.message,
                              {"field": err.field, "candidates": err.candidates})

    @app.errorhandler(NotFound)
    def on_not_found(err: NotFound):
        if is_api_request():
            return error_response(404, "not_found", err.message)
        from werkzeug.exceptions import NotFound as HTTPNotFound

        from crm.web.errors import http_error_page

        return http_error_page(HTTPNotFound())

    @app.errorhandler(PreconditionFailed)
    def on_precondition(err: PreconditionFailed):
        return error_response(412, "precondition_failed", err.message)


def http_error_as_json(err: HTTPException) -> Response:
    status = err.code or 500
    code, message = HTTP_CODES.get(status, (None, None))
    if code is None:
        code, message = ("internal_error", HTTP_CODES[500][1]) if status >= 500 else ("bad_request", err.description)
    headers = {}
    if status == 405 and getattr(err, "valid_methods", None):
        headers["Allow"] = ", ".join(err.valid_methods)
    if status == 429:
        retry = getattr(err, "retry_after", None)
        headers["Retry-After"] = str(retry or 60)
    return error_response(status, code, message, headers=headers)


def internal_error_as_json(err: Exception) -> Response:
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return error_response(500, *HTTP_CODES[500])
