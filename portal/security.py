"""The web side's protections on every response: a Content-Security-Policy without inline script, no framing, no
sniffing, no referrer (a sign-in link must not leak to another site), nothing cached."""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# A report document (audit file, timeline, steering report) carries its own inline styles and no script at all.
DOCUMENT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; object-src 'none'; base-uri 'none'; "
                   "form-action 'none'; frame-ancestors 'none'")
DOCUMENT_HEADER = "x-incidents-document"


class SecurityHeaders:
    """A plain ASGI middleware (not Starlette's BaseHTTPMiddleware): it sees every response, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != DOCUMENT_HEADER.encode()]
                document = len(headers) != len(message.get("headers", []))
                headers += [
                    (b"content-security-policy", (DOCUMENT_POLICY if document else PAGE_POLICY).encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyTooLarge(HTTPException):
    """More bytes received than any form of the portal may hold. An HTTP error, so that a body reader that catches
    everything else (FastAPI's, for JSON) lets it through as the 413 it is."""

    def __init__(self) -> None:
        super().__init__(413, "Envoi trop volumineux.")


class GuardedRequests:
    """What must not reach a person as a traceback or fill the machine:
    - the bytes actually received are counted, so that a body sent without Content-Length (chunked) is cut at the
      limit with a 413 before it fills the disk or the memory;
    - an error nobody foresaw (the foreseen ones have their French page already) is logged for the administrator
      under var/logs/ (it may quote stored values, so never shown) and answered with a French page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from portal.forms import body_limit

        limit, received, started = body_limit(), 0, False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
            return message

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, watching)
        except BodyTooLarge:
            if not started:
                await _answer(send, 413, b"text/plain; charset=utf-8", "Envoi trop volumineux.")
        except Exception:  # noqa: BLE001 - the last net of the portal
            from cli.crash_log import log_unexpected

            log_unexpected(f"portail {scope.get('method', '')} {str(scope.get('path', '')).split('/')[1]}")
            if started:
                return
            if str(scope.get("path", "")).startswith("/api/"):
                await _answer(send, 500, b"application/json",
                              '{"detail": "Erreur inattendue : rien n\'a été enregistré par cette action."}')
            else:
                await _answer(send, 500, b"text/html; charset=utf-8", UNEXPECTED_PAGE)


UNEXPECTED_PAGE = ("<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Erreur inattendue</title>"
                   "</head><body><h1>Erreur inattendue</h1><p>Rien n'a été enregistré par cette action ; "
                   "l'administrateur en trouvera le détail dans le journal du service. "
                   "<a href=\"/incidents\">Revenir au tableau de bord</a>.</p></body></html>")


async def _answer(send: Send, status: int, kind: bytes, text: str) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
