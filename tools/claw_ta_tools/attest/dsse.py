"""DSSE envelopes (``cosign attest --key``, the SBOM lab, in-toto's DSSE links) checked with policy keys.

The signature covers PAE(payloadType, payload) (DSSE v1:
``DSSEv1 <len> <type> <len> <payload>``), the payload being the base64-decoded
``payload`` (standard alphabet, strictly decoded: what the parser reads is
exactly these bytes). ``keyid`` is only a hint (cosign leaves it empty): every
policy key is tried.
"""
import base64
import binascii

from claw_ta_tools.attest.result import Result, failed

KIND = "dsse"


def pae(payload_type, payload):
    """DSSE v1 pre-authentication encoding."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def decode_payload(envelope):
    """(payload type, payload bytes) of an envelope; ValueError with the reason."""
    payload_type, payload = envelope.get("payloadType"), envelope.get("payload")
    if not isinstance(payload_type, str) or not isinstance(payload, str):
        raise ValueError("payloadType and payload must be strings")
    try:
        return payload_type, base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("payload is not strict base64: %s" % error)


def signatures(envelope):
    """[(keyid, signature bytes)] of an envelope; ValueError for a malformed list."""
    items = envelope.get("signatures")
    if not isinstance(items, list):
        raise ValueError("signatures is not a list")
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sig"), str):
            raise ValueError("a signature has no sig string")
        try:
            out.append((str(item.get("keyid") or ""), base64.b64decode(item["sig"], validate=True)))
        except (binascii.Error, ValueError):
            raise ValueError("a signature is not base64")
    return out


def verify(envelope, keyring, names_of):
    """Result of a DSSE envelope checked with ``keyring`` (claw_ta_tools.attest.keys.Keyring)."""
    try:
        payload_type, payload = decode_payload(envelope)
        sigs = signatures(envelope)
    except ValueError as error:
        return failed(KIND, "malformed DSSE envelope: %s" % error)
    message = pae(payload_type, payload)
    for _, sig in sigs:
        signer = keyring.signer_of(sig, message)
        if signer:
            return Result(True, True, signer, KIND, "DSSE signature verified with key %s" % signer,
                          payload, names_of(payload))
    hints = ", ".join(sorted(set(k for k, _ in sigs if k))) or "none given"
    return failed(KIND, "no key of the trust policy verifies its %d signature(s) (keyid %s): a wrong key, "
                  "an unknown signer or a changed payload" % (len(sigs), hints))
