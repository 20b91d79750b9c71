"""Find and check the signatures in a file's bytes: one Result per JSON object (a line of JSON Lines).

The text is decoded and split exactly as the parser does (claw_ta.sbom.parse:
UTF-8/UTF-16, one JSON document, else one per line); objects are read with
duplicate keys refused, so no two readers of the same bytes can see different
fields.
"""
import hashlib
import json

from claw_ta.sbom.parse import decode_text
from claw_ta.sbom.trust import signature_form
from claw_ta_tools.attest import bundle, dsse, link
from claw_ta_tools.attest.keys import Keyring
from claw_ta_tools.attest.result import failed, unsigned


class DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey("duplicate key %r" % key)
        out[key] = value
    return out


def strict_json(text):
    return json.loads(text, object_pairs_hook=_no_duplicates)


def statement_names(payload):
    """{subject sha256 hex: name} of a signed in-toto statement ('' where a digest has two names)."""
    try:
        statement = json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    names = {}
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    for subject in subjects if isinstance(subjects, list) else ():
        if not isinstance(subject, dict) or not isinstance(subject.get("digest"), dict):
            continue
        digest = str(subject["digest"].get("sha256") or "").lower()
        name = str(subject.get("name") or "")
        names[digest] = name if names.get(digest, name) == name else ""
    return names


class Verifier(object):
    """Checks the signed objects of a text with the policy's keys and, for bundles, a trusted root."""

    def __init__(self, policy, trusted_root=None):
        self.keyring = Keyring(policy.key_rows())
        self.bundles = bundle.BundleVerifier(trusted_root, policy.sigstore_rows())
        self.errors = list(self.keyring.errors) + ([self.bundles.error] if self.bundles.error else [])

    def check_object(self, text):
        """(Result, sha256 hex of the payload it claims or ''), for one JSON text."""
        try:
            obj = strict_json(text)
        except DuplicateKey as error:
            return failed("json", "refused: %s (two readers could see different fields)" % error), ""
        except (ValueError, RecursionError) as error:
            return unsigned("not JSON: %s" % error), ""
        return self._check_parsed(obj, text)

    def _check_parsed(self, obj, text):
        form = signature_form(obj)
        if form == "sigstore-bundle":
            env = obj.get("dsseEnvelope") if isinstance(obj.get("dsseEnvelope"), dict) else {}
            return self.bundles.verify(text, statement_names), _claimed(env)
        if form == "dsse":
            return dsse.verify(obj, self.keyring, statement_names), _claimed(obj)
        if form == "in-toto-link":
            return link.verify(obj, self.keyring), ""
        return unsigned(), _claimed(obj) if isinstance(obj, dict) and "payload" in obj else ""

    def check(self, raw):
        """[(Result, claimed payload sha256)] for every JSON object of ``raw`` (bytes), as the parser splits it."""
        try:
            text = decode_text(raw).lstrip("\ufeff \t\r\n")
        except ValueError as error:
            return [(unsigned("not text: %s" % error), "")]
        if not text.startswith(("{", "[")):
            return [(unsigned(), "")]
        try:
            obj = strict_json(text)
        except DuplicateKey as error:
            return [(failed("json", "refused: %s (two readers could see different fields)" % error), "")]
        except (ValueError, RecursionError) as whole:
            lines = [line for line in text.splitlines() if line.strip()]
            if len(lines) < 2 or "Extra data" not in str(whole):
                return [(unsigned("not JSON: %s" % whole), "")]
            return [self.check_object(line) for line in lines]
        return [self._check_parsed(obj, text)]


def _claimed(envelope):
    try:
        return hashlib.sha256(dsse.decode_payload(envelope)[1]).hexdigest()
    except (ValueError, AttributeError):
        return ""
