"""The API key that the prediction routes require when API_KEY (or API_KEY_FILE) is set, with
FastAPI's security utilities, so the OpenAPI spec documents the scheme and its 401."""

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

from .schema import ValidationProblem
from .settings import API_KEY_SEPARATOR

KEY_HEADER = "X-API-Key"
logger = logging.getLogger(__name__)


class APIKeyRefusedError(Exception):
    """The request lacks the API key, or sends another one."""


@dataclass(frozen=True)
class RouteGuard:
    """What a protected route adds to its decorator: the key check and its documented 401
    (both empty when no key is set)."""

    dependencies: list[Any] = field(default_factory=list)
    responses: dict[int | str, dict[str, Any]] = field(default_factory=dict)


def api_key_guard(api_key: SecretStr | None) -> RouteGuard:
    """The guard of the prediction routes: none without a key, else the header check (against
    each key, during a rotation)."""
    if api_key is None:
        logger.info("no API_KEY set: the prediction routes answer any caller that reaches them")
        return RouteGuard()
    logger.info("the prediction routes require the %s header (API_KEY)", KEY_HEADER)
    expected = [key.encode() for key in api_key.get_secret_value().split(API_KEY_SEPARATOR)]
    scheme = APIKeyHeader(
        name=KEY_HEADER,
        scheme_name="APIKey",
        description="The service's API key (API_KEY), required by the prediction routes.",
        auto_error=False,
    )

    async def require_api_key(sent: str | None = Security(scheme)) -> None:
        if not sent:
            raise APIKeyRefusedError(f"the {KEY_HEADER} header is missing")
        # As bytes, in constant time, against every key: any header text, no timing hint.
        matches = [secrets.compare_digest(sent.encode(), key) for key in expected]
        if not any(matches):
            raise APIKeyRefusedError(f"the {KEY_HEADER} header does not hold the service's key")

    description = f"no {KEY_HEADER} header, or not the service's key"
    return RouteGuard(
        dependencies=[Depends(require_api_key)],
        responses={401: {"model": ValidationProblem, "description": description}},
    )


async def refuse_without_api_key(request: Request, exc: Exception) -> JSONResponse:
    """401 in the service's problem format; API key schemes have no standard challenge, so the
    WWW-Authenticate header names the scheme, as FastAPI's own APIKeyHeader does."""
    body = ValidationProblem(message=str(exc), detail=[])
    return JSONResponse(
        status_code=401, content=body.model_dump(), headers={"WWW-Authenticate": "APIKey"}
    )
