"""The Idempotency-Key header on POST endpoints."""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, make_response, request

from crm.api.errors import ApiError
from crm.services import idempotency

REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


def idempotent(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255:
            raise ApiError(400, "validation_error", "The Idempotency-Key header is invalid.",
                           {"Idempotency-Key": ["Must be 1 to 255 characters."]})
        fingerprint = idempotency.request_fingerprint(request.method, request.path, request.get_data(cache=True))
        claim = idempotency.claim(g.caller.key_id, key, fingerprint)
        if claim.state == "reused":
            raise ApiError(422, "idempotency_key_reused", "This Idempotency-Key was used with a different request.")
        if claim.state == "in_progress":
            raise ApiError(409, "idempotency_in_progress",
                           "A request with this Idempotency-Key is still being processed; retry shortly.")
        if claim.state == "replay":
            response = current_app.response_class(claim.body, status=claim.status)
            for name, value in claim.headers.items():
                response.headers[name] = value
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response = make_response(view(*args, **kwargs))
        except Exception as err:  # noqa: BLE001 - turned into the response the client sees
            response = make_response(current_app.handle_user_exception(err))
        if response.status_code >= 500:
            idempotency.release(claim.record_id)
            return response
        headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
        idempotency.finish(claim.record_id, response.status_code, response.get_data(as_text=True), headers)
        return response

    wrapper.idempotent = True
    return wrapper
