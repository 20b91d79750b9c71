"""in-toto v0.9 link metadata (``signed`` + ``signatures``) checked with functionary keys.

The signature covers the canonical JSON of ``signed`` (securesystemslib's
``encode_canonical``, as in-toto-run signs); ``sig`` is hex (in-toto,
securesystemslib) or base64. Keys: the policy's, tried in turn (in-toto's
``keyid`` is its own key hash, not the SPKI fingerprint: only a hint).
"""
import base64
import binascii
import json

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


def _forms(signed):
    """The serializations of ``signed`` a signature may cover, cheapest first.

    Sorted-key compact JSON from the json module equals securesystemslib's
    canonical form for every link without control characters or floats (all
    of in-toto-run's), at a fraction of the cost; securesystemslib's form is
    tried when it does not verify. Either way the bytes that verify are an
    exact serialization of the object the parser reads.
    """
    yield json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    yield canonical(signed)


def verify(link, keyring):
    """Result of an in-toto v0.9 signed link checked with ``keyring``."""
    items = link.get("signatures")
    if not isinstance(items, list) or not isinstance(link.get("signed"), dict):
        return failed(KIND, "malformed in-toto link: signed is not an object or signatures not a list")
    sigs, hints = [], []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sig"), str):
            return failed(KIND, "malformed in-toto link: a signature has no sig string")
        hints.append(str(item.get("keyid") or "")[:16])
        sig = _signature_bytes(item["sig"])
        if sig is not None:
            sigs.append(sig)
    try:
        for data in _forms(link["signed"]):
            for sig in sigs:
                signer = keyring.signer_of(sig, data)
                if signer:
                    return Result(True, True, signer, KIND, "in-toto link signature verified with key %s"
                                  % signer, data)
    except ValueError as error:
        return failed(KIND, "malformed in-toto link: %s" % error)
    return failed(KIND, "no key of the trust policy verifies its %d signature(s) (keyid %s): a wrong key, "
                  "an unknown functionary or a changed link" % (len(items), ", ".join(h for h in hints if h)
                                                                 or "none given"))
