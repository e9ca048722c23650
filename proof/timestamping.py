"""Countersignature of checkpoints by an RFC 3161 timestamping authority (TSA), when an académie has one.

The log's own key says what the tree was; only a third party can say *when*, against an operator who could sign a
backdated checkpoint. The authority dates the SHA-256 of the whole signed note (`checkpoint_imprint`), so that its
token dates the signature as well as the tree head. Requests and responses are built and checked with
`rfc3161-client` (Trail of Bits, the library sigstore-python relies on); the token is the DER TimeStampToken
(RFC 3161 §2.4.2), which `openssl ts -verify -token_in` checks too.
"""

import base64
import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import cryptography.x509
from cryptography.x509.oid import NameOID
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from proof.errors import ProofError

TSA_URL_SETTING = "INCIDENTS_TSA_URL"
TSA_CA_FILE_SETTING = "INCIDENTS_TSA_CA_FILE"
TSA_TIMEOUT_SETTING = "INCIDENTS_TSA_TIMEOUT"
# Short: the checkpoint is signed under the chain head's lock, and a slow authority must not hold up declarations.
DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_RESPONSE_BYTES = 1 << 20  # a response is a few kilobytes; more is no timestamp
SHA256_OID = cryptography.x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")


class TimestampError(ProofError):
    """A timestamp not obtained or not valid; the message says why, in French, and names no person."""


@dataclass(frozen=True)
class Timestamp:
    """A token and what a reader wants of it: who dated, when, and over which imprint."""

    token: bytes  # DER TimeStampToken (a CMS ContentInfo)
    authority: str
    gen_time: datetime
    imprint: bytes

    def encoded(self) -> str:
        return base64.b64encode(self.token).decode("ascii")


class TimestampAuthority(Protocol):
    def timestamp(self, data: bytes) -> Timestamp:
        """A checked token dating `data` (its SHA-256 imprint), or TimestampError."""
        ...


def checkpoint_imprint(signed_note: str) -> bytes:
    """What the authority dates: the SHA-256 of the whole signed note, so that the token dates the signature
    as well as the tree head."""
    return hashlib.sha256(signed_note.encode("utf-8")).digest()


def countersign(signed_note: str, authority: TimestampAuthority) -> Timestamp:
    """The authority's token for this signed checkpoint."""
    return authority.timestamp(signed_note.encode("utf-8"))


class HttpAuthority:
    """An authority reached over HTTP(S) (RFC 3161 §3.4): a TimeStampReq POSTed, a TimeStampResp read back."""

    def __init__(self, url: str, roots: list[cryptography.x509.Certificate] | None = None,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            # urllib would also open file:// and ftp:// addresses: only the HTTP transport of RFC 3161 §3.4 is meant.
            raise TimestampError(f"{TSA_URL_SETTING} doit être une adresse http:// ou https://")
        self.url, self.roots, self.timeout = url, roots or [], timeout

    def timestamp(self, data: bytes) -> Timestamp:
        request = (TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256)
                   .nonce(nonce=True).cert_request(cert_request=True).build())
        body = self._post(request.as_bytes())
        try:
            response = decode_timestamp_response(body)
        except ValueError:
            raise TimestampError("l'autorité d'horodatage a renvoyé une réponse illisible (pas une réponse "
                                 "RFC 3161)") from None
        digest = hashlib.sha256(data).digest()
        _check(response, digest, self.roots, request.nonce)
        return _described(response)

    def _post(self, query: bytes) -> bytes:
        request = urllib.request.Request(self.url, data=query, method="POST", headers={
            "Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # the scheme checked on construction
                body: bytes = answer.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as error:
            raise TimestampError(f"l'autorité d'horodatage a répondu par une erreur HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise TimestampError(f"l'autorité d'horodatage est injoignable ({reason})") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise TimestampError("l'autorité d'horodatage a renvoyé une réponse trop longue")
        return body


def configured_authority(environ: Mapping[str, str] | None = None) -> HttpAuthority | None:
    """The authority INCIDENTS_TSA_URL names (its certificates in INCIDENTS_TSA_CA_FILE, when given), or None
    when none is configured. A setting that cannot be used is a TimestampError, said like a failed request."""
    environ = os.environ if environ is None else environ
    url = environ.get(TSA_URL_SETTING, "").strip()
    if not url:
        return None
    try:
        timeout = float(environ.get(TSA_TIMEOUT_SETTING, "") or DEFAULT_TIMEOUT_SECONDS)
    except ValueError:
        raise TimestampError(f"{TSA_TIMEOUT_SETTING} doit être un nombre de secondes") from None
    ca_file = environ.get(TSA_CA_FILE_SETTING, "").strip()
    return HttpAuthority(url, load_certificates(Path(ca_file)) if ca_file else None, timeout)


def load_certificates(path: Path) -> list[cryptography.x509.Certificate]:
    """The authority's certificate(s), PEM: its root, and any intermediate or its own certificate."""
    try:
        certificates = cryptography.x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as error:
        raise TimestampError(f"certificats de l'autorité d'horodatage illisibles ({path} : {error.strerror})") \
            from None
    except ValueError:
        raise TimestampError(f"le fichier {path} ne contient aucun certificat PEM lisible") from None
    return certificates


def _check(response: TimeStampResponse, digest: bytes, roots: list[cryptography.x509.Certificate],
           nonce: int | None) -> None:
    """What makes a response a timestamp of this digest: granted, over this imprint and nonce, and signed by the
    configured authority when its certificates are given."""
    if response.status != PKIStatus.GRANTED:
        said = " ; ".join(response.status_string)
        raise TimestampError(f"l'autorité d'horodatage a refusé la demande (statut {response.status}"
                             + (f" : {said}" if said else "") + ")")
    imprint = response.tst_info.message_imprint
    if imprint.hash_algorithm != SHA256_OID or imprint.message != digest:
        raise TimestampError("le jeton d'horodatage ne porte pas l'empreinte SHA-256 du point de contrôle")
    if nonce is not None and response.tst_info.nonce != nonce:
        raise TimestampError("le jeton d'horodatage ne répond pas à cette demande (aléa différent)")
    if roots:
        builder = VerifierBuilder(nonce=nonce)
        for certificate in roots:
            builder = builder.add_root_certificate(certificate)
        try:
            builder.build().verify(response, digest)
        except (VerificationError, ValueError) as error:
            raise TimestampError(f"la signature du jeton d'horodatage ne se vérifie pas avec les certificats de "
                                 f"l'autorité ({error})") from None


def _described(response: TimeStampResponse) -> Timestamp:
    info = response.tst_info
    return Timestamp(response.time_stamp_token(), _authority_name(response), info.gen_time,
                     info.message_imprint.message)


def _authority_name(response: TimeStampResponse) -> str:
    """Who signed: the common name (else the whole subject) of the certificate the signature names."""
    signers = list(response.signed_data.signer_infos)
    for der in response.signed_data.certificates:
        certificate = cryptography.x509.load_der_x509_certificate(der)
        if signers and (certificate.issuer, certificate.serial_number) == (signers[0].issuer,
                                                                         signers[0].serial_number):
            names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            return str(names[0].value) if names else certificate.subject.rfc4514_string()
    return "autorité d'horodatage non nommée"


def _der_length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    digits = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(digits)]) + digits


GRANTED_STATUS = bytes.fromhex("3003020100")  # PKIStatusInfo ::= SEQUENCE { status PKIStatus (granted, 0) }


def as_response(token: bytes) -> TimeStampResponse:
    """A stored token read back, wrapped as the granted TimeStampResp it came in (RFC 3161 §2.4.2), the form the
    library reads; a whole response (what `openssl ts -reply` writes) is read as it is."""
    try:
        response = decode_timestamp_response(token)
        if response.status == PKIStatus.GRANTED:
            return response
    except ValueError:
        pass  # not a response: a token, as the checkpoint stores it
    content = GRANTED_STATUS + token
    try:
        return decode_timestamp_response(b"\x30" + _der_length(len(content)) + content)
    except ValueError:
        raise TimestampError("le jeton d'horodatage est illisible (ni jeton ni réponse RFC 3161)") from None


def read_token(token: bytes) -> Timestamp:
    """What a stored token says (who, when, which imprint), its signature not checked: for display."""
    return _described(as_response(token))


def verify_token(token: bytes, signed_note: str, roots: list[cryptography.x509.Certificate]) -> Timestamp:
    """The token checked offline: it dates this very note (the SHA-256 of its text) and is signed by an authority
    these certificates vouch for (a timeStamping certificate, valid at the time it gives)."""
    if not roots:
        raise TimestampError("le certificat de l'autorité d'horodatage est nécessaire pour vérifier son jeton")
    response = as_response(token)
    _check(response, checkpoint_imprint(signed_note), roots, None)
    return _described(response)
