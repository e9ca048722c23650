"""Why a message was not delivered, said in French for the people told about it; the relay's own reply, in English
and technical, stays in the store and the audit file for the administrator."""

import re

_CODE = re.compile(r"\b([245]\d\d)\b")
_UNREACHABLE = ("ConnectionRefusedError", "ConnectionResetError", "TimeoutError", "SMTPConnectError",
                "SMTPServerDisconnected", "SMTPTimeoutError", "SMTPConnectTimeoutError", "OSError", "gaierror")


def delivery_reason(detail: str | None) -> str:
    """A French sentence for a stored delivery error (`Type: reply`, or our own French text)."""
    if not detail:
        return "motif non précisé"
    kind = detail.split(":", 1)[0].strip()
    if not kind.isidentifier():  # already ours, in French (a message too large, a message that cannot be built)
        return detail
    if kind in _UNREACHABLE:
        return "le relais de messagerie ne répond pas ou a coupé la connexion"
    codes = sorted({int(code) for code in _CODE.findall(detail)})
    if not codes:
        return "le relais de messagerie a rencontré une erreur"
    shown = ", ".join(str(code) for code in codes)
    if 552 in codes:
        return f"le message est trop volumineux pour le serveur de messagerie (code {shown})"
    if "Recipient" in kind:
        when = "définitivement" if all(code >= 500 for code in codes) else "pour le moment"
        return f"le serveur de messagerie refuse {when} l'adresse du destinataire (code {shown})"
    if all(code >= 500 for code in codes):
        return f"le serveur de messagerie refuse définitivement le message (code {shown})"
    return f"le serveur de messagerie refuse le message pour le moment (code {shown})"
