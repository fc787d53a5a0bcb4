"""Failures a service reports; the API and the UI each render them their own way."""


class ServiceError(Exception):
    code = "error"


class ValidationFailed(ServiceError):
    """One or more fields are wrong: `details` maps each field to a list of messages."""

    code = "validation_error"

    def __init__(self, details: dict[str, list[str]], message: str = "The request has invalid fields."):
        super().__init__(message)
        self.details = details
        self.message = message

    @classmethod
    def field(cls, name: str, message: str) -> "ValidationFailed":
        return cls({name: [message]})


class AmbiguousReference(ServiceError):
    code = "ambiguous_reference"

    def __init__(self, field: str, query: str, candidates: list[dict]):
        self.field = field
        self.candidates = candidates
        self.message = f'"{query}" matches several records; give {field.removesuffix("_name")}_id instead.'
        super().__init__(self.message)


class NotFound(ServiceError):
    code = "not_found"

    def __init__(self, message: str = "No such record."):
        super().__init__(message)
        self.message = message


class PreconditionFailed(ServiceError):
    code = "precondition_failed"

    def __init__(self, message: str = "The record has changed since you read it (If-Match does not match)."):
        super().__init__(message)
        self.message = message


class AlreadySetUp(ServiceError):
    """/setup after the install has its first workspace and admin."""

    code = "already_set_up"

    def __init__(self, message: str = "This install is already set up; sign in instead."):
        super().__init__(message)
        self.message = message
