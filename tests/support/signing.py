"""Signing for the signature tests: keys generated in the test (never a private key on disk), envelopes
written as ``cosign attest --key`` writes them, statements around CycloneDX file-level SBOMs."""
import base64
import hashlib
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

IN_TOTO = "application/vnd.in-toto+json"


def generate(kind):
    """A private key: 'p256', 'p384', 'ed25519', 'rsa'."""
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(kind)


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def fingerprint(key):
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def sign(key, data, rsa_pss=False, ec_hash=None):
    """A signature as cosign / openssl write it (ECDSA DER with SHA-256 unless ``ec_hash``)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA((ec_hash or hashes.SHA256)()))
    if rsa_pss:
        return key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH), hashes.SHA256())
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def pae(payload_type, body):
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def file_sbom(libraries, component=None):
    """A CycloneDX 1.5 file-level SBOM: {path: sha256 hex}."""
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
           "components": [{"type": "file", "name": path, "hashes": [{"alg": "SHA-256", "content": digest}]}
                          for path, digest in sorted(libraries.items())]}
    if component:
        bom["metadata"] = {"component": component}
    return bom


def statement(subjects, predicate, predicate_type="https://cyclonedx.org/bom"):
    """An in-toto Statement v1; ``subjects``: [(name, sha256 hex)]."""
    return {"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in subjects],
            "predicateType": predicate_type, "predicate": predicate}


def envelope(key, payload, keyid="", **sign_options):
    """A DSSE envelope (dict) around ``payload`` (dict or bytes), signed with ``key`` over PAE."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
    sigs = [] if key is None else [{"keyid": keyid, "sig": base64.b64encode(
        sign(key, pae(IN_TOTO, body), **sign_options)).decode()}]
    return {"payloadType": IN_TOTO, "payload": base64.b64encode(body).decode(), "signatures": sigs}


def to_bytes(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def key_row(key, images="*", subjects="", with_pem=True):
    """A claw_trust_policy row for ``key``."""
    row = {"signer_kind": "key", "images": images, "subjects": subjects}
    if with_pem:
        row["public_key"] = public_pem(key)
    else:
        row["key_fingerprint"] = fingerprint(key)
    return row
