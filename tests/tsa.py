"""A real RFC 3161 timestamping authority on loopback, for tests: an HTTP server in a thread that answers each
TimeStampReq with a TimeStampResp signed (CMS, RSA/SHA-256, with the ESS signingCertificateV2 attribute that
`openssl ts -verify` requires) by a TSA certificate that a test CA, generated here with `cryptography`, issued with
the critical extendedKeyUsage timeStamping. `mode` makes it misbehave the ways a real authority can."""

import datetime
import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core, tsp, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TSA_NAME = "Autorité d'horodatage de test"
POLICY = "1.3.6.1.4.1.99999.1"  # a test policy OID (private arc)


@dataclass
class LoopbackAuthority:
    """The CA, the TSA certificate and key, and the server answering on `url`."""

    ca_pem: bytes
    tsa_certificate: cx509.Certificate
    tsa_key: rsa.RSAPrivateKey
    mode: str = "ok"  # ok | reject | wrong_imprint | wrong_nonce | http_error | garbage
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    server: ThreadingHTTPServer | None = None

    def write_ca(self, folder: Path) -> Path:
        path = folder / "tsa-ca.pem"
        path.write_bytes(self.ca_pem)
        return path

    def answer(self, query: bytes, record: dict[str, Any]) -> bytes:
        request = tsp.TimeStampReq.load(query)
        record.update({"imprint": request["message_imprint"]["hashed_message"].native,
                              "algorithm": request["message_imprint"]["hash_algorithm"]["algorithm"].native,
                              "nonce": request["nonce"].native, "cert_req": request["cert_req"].native})
        if self.mode == "reject":
            status = tsp.PKIStatusInfo({"status": "rejection", "status_string": ["demande refusée"],
                                        "fail_info": {"bad_alg"}}).dump()
            # A refusal carries no token, which asn1crypto's TimeStampResp insists on: the SEQUENCE written here.
            return core.Sequence.load(b"\x30" + bytes([len(status)]) + status).dump()
        if self.mode == "garbage":
            return b"not a timestamp response"
        imprint = request["message_imprint"]["hashed_message"].native
        if self.mode == "wrong_imprint":
            imprint = hashlib.sha256(b"another document").digest()
        nonce = request["nonce"].native
        if self.mode == "wrong_nonce" and nonce is not None:
            nonce += 1
        return self.response(imprint, nonce, bool(request["cert_req"].native))

    def response(self, imprint: bytes, nonce: int | None, with_certificate: bool) -> bytes:
        info: dict[str, Any] = {
            "version": "v1", "policy": POLICY,
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": imprint},
            "serial_number": len(self.requests),
            "gen_time": datetime.datetime.now(datetime.UTC).replace(microsecond=0),
            "accuracy": {"seconds": 1}}
        if nonce is not None:
            info["nonce"] = nonce
        tst_info = tsp.TSTInfo(info)
        content = tst_info.dump()
        certificate = x509.Certificate.load(self.tsa_certificate.public_bytes(serialization.Encoding.DER))
        signed_attrs = cms.CMSAttributes([
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
            {"type": "signing_certificate_v2", "values": [{"certs": [{
                "hash_algorithm": {"algorithm": "sha256"},
                "cert_hash": hashlib.sha256(certificate.dump()).digest()}]}]},
        ])
        signature = self.tsa_key.sign(signed_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
        signer = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
                "issuer": certificate.issuer, "serial_number": certificate.serial_number})}),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
            "signature": signature})
        signed_data = cms.SignedData({
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "tst_info", "content": core.ParsableOctetString(content)},
            "certificates": [certificate] if with_certificate else [],
            "signer_infos": [signer]})
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


def _certificates() -> tuple[bytes, cx509.Certificate, rsa.RSAPrivateKey]:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "AC de test des horodatages")])
    ca = (cx509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(cx509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(cx509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(cx509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                        data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                        crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(cx509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = (cx509.CertificateBuilder()
           .subject_name(cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, TSA_NAME)]))
           .issuer_name(ca_name).public_key(tsa_key.public_key()).serial_number(cx509.random_serial_number())
           .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
           .add_extension(cx509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(cx509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
           # RFC 3161 §2.3: the TSA's certificate has exactly this purpose, marked critical.
           .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
           .add_extension(cx509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
           .sign(ca_key, hashes.SHA256()))
    return ca.public_bytes(serialization.Encoding.PEM), tsa, tsa_key


def start_authority() -> LoopbackAuthority:
    """A new CA and TSA, served on 127.0.0.1 at a free port; `stop` it when done."""
    authority = LoopbackAuthority(*_certificates())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            record: dict[str, Any] = {"content_type": self.headers.get("Content-Type")}
            authority.requests.append(record)
            if authority.mode == "http_error":
                self.send_error(500, "TSA en panne")
                return
            body = authority.answer(query, record)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass  # quiet tests

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    authority.server, authority.url = server, f"http://127.0.0.1:{server.server_address[1]}/tsr"
    return authority


def stop(authority: LoopbackAuthority) -> None:
    if authority.server is not None:
        authority.server.shutdown()
        authority.server.server_close()
