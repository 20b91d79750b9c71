"""Public keys of the trust policy and signature checks with them (``cryptography``).

A key's id is ``sha256:`` + the SHA-256 of its DER SubjectPublicKeyInfo (what
cosign prints and the policy's ``key_fingerprint`` holds). Accepted, as the
supply-chain signers write them:

- ECDSA P-256 / P-384 / P-521, DER signatures (cosign, openssl, in-toto's
  ``ecdsa-sha2-nistp*``): the curve's own hash (SHA-256 / SHA-384 / SHA-512)
  and SHA-256 (cosign signs with SHA-256 whatever the curve);
- Ed25519 (in-toto-run, cosign ``--signing-algorithm ed25519``);
- RSA >= 2048 bits: PKCS#1 v1.5 and PSS with SHA-256 (cosign; in-toto's
  ``rsassa-pss-sha256``, salt length digest or maximum).
"""
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

MIN_RSA_BITS = 2048
_CURVE_HASH = {"secp256r1": hashes.SHA256, "secp384r1": hashes.SHA384, "secp521r1": hashes.SHA512}


class KeyProblem(ValueError):
    """A public key that cannot be used."""


def load_public_key(pem):
    """(key object, fingerprint) of a PEM public key; KeyProblem with the reason."""
    if isinstance(pem, str):
        pem = pem.encode("ascii", "replace")
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as error:
        raise KeyProblem("not a PEM public key: %s" % error)
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name not in _CURVE_HASH:
        raise KeyProblem("ECDSA curve %s is not accepted (P-256, P-384, P-521)" % key.curve.name)
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise KeyProblem("RSA key of %d bits is under %d" % (key.key_size, MIN_RSA_BITS))
    if not isinstance(key, (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, rsa.RSAPublicKey)):
        raise KeyProblem("key type %s is not accepted (ECDSA, Ed25519, RSA)" % type(key).__name__)
    return key, fingerprint(key)


def fingerprint(key):
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def _attempts(key):
    if isinstance(key, ed25519.Ed25519PublicKey):
        return [lambda s, d: key.verify(s, d)]
    if isinstance(key, ec.EllipticCurvePublicKey):
        algs = [_CURVE_HASH[key.curve.name]]
        if algs[0] is not hashes.SHA256:
            algs.append(hashes.SHA256)
        return [lambda s, d, a=a: key.verify(s, d, ec.ECDSA(a())) for a in algs]
    return [lambda s, d: key.verify(s, d, padding.PKCS1v15(), hashes.SHA256()),
            lambda s, d: key.verify(s, d, padding.PSS(padding.MGF1(hashes.SHA256()),
                                                      padding.PSS.DIGEST_LENGTH), hashes.SHA256()),
            lambda s, d: key.verify(s, d, padding.PSS(padding.MGF1(hashes.SHA256()),
                                                      padding.PSS.MAX_LENGTH), hashes.SHA256())]


def verifies(key, signature, data):
    """Whether ``signature`` (bytes) over ``data`` checks out with ``key``."""
    for attempt in _attempts(key):
        try:
            attempt(signature, data)
            return True
        except (InvalidSignature, ValueError, TypeError, OverflowError):  # a malformed signature is no signature
            continue
    return False


class Keyring(object):
    """The policy's public keys by fingerprint."""

    def __init__(self, rows=()):
        self.keys = {}
        self.errors = []
        for row in rows:
            if not row.public_key:
                self.errors.append("key %s: no public_key in the policy row, signatures by it cannot "
                                   "be checked" % row.fingerprint)
                continue
            try:
                key, fp = load_public_key(row.public_key)
            except KeyProblem as error:
                self.errors.append("key %s: %s" % (row.fingerprint, error))
                continue
            self.keys[fp] = key

    def signer_of(self, signature, data):
        """The fingerprint of the first policy key that ``signature`` over ``data`` verifies with, or None."""
        for fp, key in self.keys.items():
            if verifies(key, signature, data):
                return fp
        return None
