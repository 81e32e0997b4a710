"""Service Layer errors and their two envelopes (reference §6)."""

from __future__ import annotations

import json

from starlette.responses import Response

# Messages as a real SL answers them (reference §2, §6, §7, §9).
INVALID_SESSION = "Invalid session or session already timeout."
LOGIN_FAILED = "Fail to NONE-SSO login from SLD."
NOT_FOUND = "No matching records found (ODBC -2028)"
ETAG_MISMATCH = (
    "Another user or another operation modified data; to continue, open the window again (ODBC -2039)"
)
PERIOD_LOCKED = "Posting period locked; specify an alternative date"
DATE_OUT_OF_RANGE = "Posting Date deviates from the defined range"
DEADLOCK = (
    "Transaction (Process ID 57) was deadlocked on lock resources with another process and "
    "has been chosen as the deadlock victim. Rerun the transaction. (ODBC -2038)"
)


class SLError(Exception):
    """An error the emulated Service Layer answers with; rendered per root by `render_error`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid_property(name: str, type_name: str) -> SLError:
    return SLError(400, -1000, f"Property '{name}' of '{type_name}' is invalid")


def bad_query(message: str) -> SLError:
    """Invalid $filter/$expand syntax answers code 201 (reference §4, §6)."""
    return SLError(400, 201, message)


def business(message: str) -> SLError:
    return SLError(400, -10, message)


def not_found() -> SLError:
    return SLError(404, -2028, NOT_FOUND)


def error_body(version: str, code: int, message: str) -> dict[str, object]:
    # v1 (OData V3): numeric code, message {lang, value}; v2 (V4): string code, plain message and
    # a details[] array (reference §6, seen live).
    if version == "v1":
        return {"error": {"code": code, "message": {"lang": "en-us", "value": message}}}
    return {"error": {"code": str(code), "message": message, "details": [{"code": "", "message": ""}]}}


def render_error(version: str, exc: SLError) -> Response:
    body = json.dumps(error_body(version, exc.code, exc.message)).encode()
    return Response(
        body, status_code=exc.status, media_type="application/json", headers=version_headers(version)
    )


def version_headers(version: str) -> dict[str, str]:
    return {"DataServiceVersion": "3.0"} if version == "v1" else {"OData-Version": "4.0"}


def proxy_error_page(status: int = 502) -> Response:
    """What the Apache load balancer in front of the SL nodes returns for a slow or dead node
    (reference §2 failover, B1SL #78): HTML, not JSON."""
    titles = {502: "Proxy Error", 503: "Service Unavailable", 504: "Gateway Timeout"}
    title = titles.get(status, "Proxy Error")
    html = (
        f'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>{status} '
        f"{title}</title>\n</head><body>\n<h1>{title}</h1>\n<p>The proxy server received an invalid "
        "response from an upstream server.<br />\nThe proxy server could not handle the request "
        '<em><a href="/b1s/v1">POST&nbsp;/b1s/v1</a></em>.</p>\n</body></html>\n'
    )
    return Response(html, status_code=status, media_type="text/html; charset=iso-8859-1")
