"""in-toto v0.9 link metadata (``signed`` + ``signatures``) checked with functionary keys.

The signature covers the canonical JSON of ``signed`` (securesystemslib's
``encode_canonical``, as in-toto-run signs); ``sig`` is hex (in-toto,
securesystemslib) or base64. Keys: the policy's, tried in turn (in-toto's
``keyid`` is its own key hash, not the SPKI fingerprint: only a hint).
"""
import base64
import binascii

from securesystemslib.formats import encode_canonical

from claw_ta_tools.attest.result import Result, failed

KIND = "in-toto-link"


def _signature_bytes(text):
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def canonical(signed):
    """The bytes an in-toto v0.9 signature covers; ValueError if ``signed`` cannot be canonicalized."""
    try:
        return encode_canonical(signed).encode("utf-8")
    except Exception as error:  # securesystemslib raises its FormatError for floats and the like
        raise ValueError("signed cannot be canonicalized: %s" % error)


def verify(link, keyring):
    """Result of an in-toto v0.9 signed link checked with ``keyring``."""
    items = link.get("signatures")
    if not isinstance(items, list) or not isinstance(link.get("signed"), dict):
        return failed(KIND, "malformed in-toto link: signed is not an object or signatures not a list")
    try:
        data = canonical(link["signed"])
    except ValueError as error:
        return failed(KIND, "malformed in-toto link: %s" % error)
    hints = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sig"), str):
            return failed(KIND, "malformed in-toto link: a signature has no sig string")
        hints.append(str(item.get("keyid") or "")[:16])
        sig = _signature_bytes(item["sig"])
        if sig is None:
            continue
        signer = keyring.signer_of(sig, data)
        if signer:
            return Result(True, True, signer, KIND, "in-toto link signature verified with key %s" % signer,
                          data)
    return failed(KIND, "no key of the trust policy verifies its %d signature(s) (keyid %s): a wrong key, "
                  "an unknown functionary or a changed link" % (len(items), ", ".join(h for h in hints if h)
                                                                 or "none given"))
