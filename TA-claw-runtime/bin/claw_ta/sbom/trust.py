"""The site's SBOM trust policy: which signers may vouch for which images, and each document's level.

Pure Python (it ships in the app; no cryptography here). Signatures are
verified outside Splunk by ``claw_ta_tools.attest`` (``claw-ta sbom-index
--trust-policy``); this module holds the policy rows, the scope rule and the
level every document gets:

- ``verified``: a good signature by a signer the policy allows for every
  subject of the document;
- ``channel``: unsigned, from a source the site declared trusted (a folder
  given to the CLI, the dedicated SBOM index of the in-Splunk rebuild, a
  scenario's ``sboms/``); never when signatures are required;
- ``untrusted``: everything else: a failing signature, a signature no policy
  key checks, a good signature by a signer not allowed for the subjects, an
  unsigned document from an undeclared source or while signatures are required.

Policy rows (KV store collection ``claw_trust_policy``, exported as CSV or
JSON for the CLI; docs/sbom-trust.md) name a signer and what it may vouch for:

- ``signer_kind`` ``key``: ``public_key`` (a PEM public key) and/or
  ``key_fingerprint`` (``sha256:`` + the SHA-256 of its DER
  SubjectPublicKeyInfo); both given must agree;
- ``signer_kind`` ``sigstore``: ``identity`` (the certificate's SAN) and
  ``issuer`` (the OIDC issuer), both exact strings;
- ``images``: repository patterns, separated by spaces or commas: ``*`` (any image),
  ``registry/path`` (that repository), ``registry/path/*`` (any repository
  below it); references are compared normalized (claw_ta.detections.imageref);
- ``subjects``: subject digests (``sha256:<hex>``), separated by spaces or commas.

Who writes which string: the subject digests and their names are written by
the signer inside what it signed. A signer may vouch for a subject when the
subject's digest is in one of its rows, or the name the signed statement
gives that subject is a repository its rows cover. A digest the signed
document adds without a name in scope (a CycloneDX metadata hash, Trivy's
ImageID, an in-toto link's products) needs ``*`` or the digest itself in the
row: otherwise a signer scoped to one team's images could vouch for another's
digest by naming it inside its own SBOM.
"""
import base64
import binascii
import csv
import hashlib
import io
import json
import re

from urllib.parse import unquote

from claw_ta.detections.imageref import repository

LEVELS = ("verified", "channel", "untrusted")
COLLECTION = "claw_trust_policy"
FIELDS = ("signer_kind", "key_fingerprint", "public_key", "identity", "issuer", "images", "subjects",
          "note", "updated_by", "updated_at")
SIGNER_KINDS = ("key", "sigstore")

_FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")
_DIGEST = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")
_PEM = re.compile(r"-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", re.S)
_PATTERN_CHARS = re.compile(r"[*?\[\]]")


class PolicyError(ValueError):
    """A policy that cannot be used; the message names the row and the reason."""


def key_fingerprint(pem):
    """``sha256:<hex>`` of the DER SubjectPublicKeyInfo inside a PEM ``PUBLIC KEY`` (cosign's key id).

    The PEM body is that DER, base64: no cryptography is needed to fingerprint it.
    """
    if isinstance(pem, bytes):
        pem = pem.decode("ascii", "replace")
    match = _PEM.search(pem or "")
    if not match:
        raise PolicyError("not a PEM public key (-----BEGIN PUBLIC KEY-----)")
    try:
        der = base64.b64decode("".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        raise PolicyError("the PEM public key is not valid base64")
    return "sha256:" + hashlib.sha256(der).hexdigest()


def _pattern(text, number):
    """A normalized repository pattern: '*', 'repo' or 'repo/*'."""
    if text == "*":
        return "*"
    prefix = text[:-2] if text.endswith("/*") else text
    if not prefix or _PATTERN_CHARS.search(prefix):
        raise PolicyError("row %d: image pattern %r: only '*', 'registry/path' and 'registry/path/*' "
                          "are patterns" % (number, text))
    if text.endswith("/*"):  # normalized as the path of a repository below it (a bare host stays a host)
        return repository(prefix + "/_")[:-1] + "*"
    return repository(prefix)


def image_repository(name):
    """The normalized repository a statement subject's name gives: an image reference, or a
    ``pkg:docker``/``pkg:oci`` purl (BuildKit names subjects so); '' for a purl of anything else."""
    if name.startswith("pkg:"):
        kind, _, rest = name[4:].partition("/")
        path, _, qualifiers = rest.partition("?")
        path = unquote(path.split("@", 1)[0])
        registry = ""
        for pair in qualifiers.split("#", 1)[0].split("&"):
            key, _, value = pair.partition("=")
            if key == "repository_url":
                registry = unquote(value)
        if kind == "oci":   # repository_url is the whole repository, the name its last component
            return repository(registry) if registry else ""
        if kind == "docker":
            return repository(registry + "/" + path if registry else path)
        return ""
    return repository(name)


def pattern_covers(pattern, name):
    """Whether the repository ``pattern`` (normalized) covers the image reference ``name``."""
    if pattern == "*":
        return True
    if not name:
        return False
    repo = image_repository(name)
    if not repo:
        return False
    if pattern.endswith("/*"):
        return repo.startswith(pattern[:-1])
    return repo == pattern


class Row(object):
    """One policy row, checked (see the module doc)."""

    def __init__(self, kind, fingerprint="", public_key="", identity="", issuer="", images=(),
                 subjects=(), note=""):
        self.kind = kind
        self.fingerprint = fingerprint
        self.public_key = public_key
        self.identity = identity
        self.issuer = issuer
        self.images = list(images)
        self.subjects = frozenset(subjects)
        self.note = note

    @property
    def signer(self):
        """How the tables name this signer (the ``signer`` column)."""
        if self.kind == "key":
            return self.fingerprint
        return "%s (%s)" % (self.identity, self.issuer)

    def covers(self, digest, name):
        """Whether this row lets its signer vouch for subject ``digest`` (hex) named ``name``."""
        if digest in self.subjects:
            return True
        return any(pattern_covers(p, name) for p in self.images)


def _row(raw, number):
    get = lambda field: str(raw.get(field) or "").strip()  # noqa: E731
    kind = get("signer_kind").lower()
    if kind not in SIGNER_KINDS:
        raise PolicyError("row %d: signer_kind %r: one of %s" % (number, kind, ", ".join(SIGNER_KINDS)))
    images = [_pattern(p, number) for p in get("images").replace(",", " ").split()]
    subjects = []
    for text in get("subjects").replace(",", " ").split():
        match = _DIGEST.match(text)
        if not match:
            raise PolicyError("row %d: subject %r is not a sha256 digest" % (number, text))
        subjects.append(match.group(1).lower())
    if not images and not subjects:
        raise PolicyError("row %d: neither images nor subjects: the signer would vouch for nothing" % number)
    if kind == "key":
        fingerprint, pem = get("key_fingerprint").lower(), get("public_key")
        if fingerprint and not _FINGERPRINT.match(fingerprint):
            raise PolicyError("row %d: key_fingerprint %r: sha256:<64 hex>" % (number, fingerprint))
        if pem:
            computed = key_fingerprint(pem)
            if fingerprint and fingerprint != computed:
                raise PolicyError("row %d: key_fingerprint %s is not the public key's (%s)"
                                  % (number, fingerprint, computed))
            fingerprint = computed
        if not fingerprint:
            raise PolicyError("row %d: a key row needs public_key (PEM) or key_fingerprint" % number)
        return Row(kind, fingerprint, pem, images=images, subjects=subjects, note=get("note"))
    identity, issuer = get("identity"), get("issuer")
    if not identity or not issuer:
        raise PolicyError("row %d: a sigstore row needs identity and issuer (exact strings)" % number)
    if _PATTERN_CHARS.search(issuer):
        raise PolicyError("row %d: issuer %r: exact string, no wildcards" % (number, issuer))
    return Row(kind, identity=identity, issuer=issuer, images=images, subjects=subjects, note=get("note"))


class Policy(object):
    """The checked rows of the site's trust policy (empty: no signer is trusted)."""

    def __init__(self, rows=()):
        self.rows = list(rows)

    @classmethod
    def from_rows(cls, rows):
        """Policy from dicts (KV store records or CSV rows); PolicyError names the first bad row."""
        return cls(_row(raw, number) for number, raw in enumerate(rows, 1))

    def key_rows(self):
        return [r for r in self.rows if r.kind == "key"]

    def sigstore_rows(self):
        return [r for r in self.rows if r.kind == "sigstore"]

    def rows_for(self, signer):
        """The rows naming ``signer`` (a key fingerprint, or 'identity (issuer)')."""
        return [r for r in self.rows if r.signer == signer]

    def scope_refusal(self, signer, subjects, names):
        """None if ``signer`` may vouch for every subject (hex) named by ``names`` {hex: name}, else why not."""
        rows = self.rows_for(signer)
        if not rows:
            return "signer %s is not in the trust policy" % signer
        for digest in subjects:
            name = names.get(digest, "")
            if not any(r.covers(digest, name) for r in rows):
                said = ("named %s by the signed statement" % name) if name else \
                    "not named by the signed statement"
                return ("signer %s is not allowed for subject sha256:%s (%s; its rows cover images %s "
                        "and %d listed digest(s))" % (signer, digest, said,
                                                      " ".join(sorted(set(p for r in rows for p in r.images)))
                                                      or "none", sum(len(r.subjects) for r in rows)))
        return None


def load_policy(path):
    """Policy from an exported ``claw_trust_policy`` (``.json``: a list of records; else CSV)."""
    with io.open(path, encoding="utf-8-sig") as handle:
        text = handle.read()
    if path.lower().endswith(".json") or text.lstrip()[:1] in ("[", "{"):
        try:
            records = json.loads(text)
        except ValueError as error:
            raise PolicyError("%s: not valid JSON: %s" % (path, error))
        if isinstance(records, dict):
            records = records.get("rows") or records.get("results") or []
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise PolicyError("%s: a JSON policy is a list of records (objects)" % path)
    else:
        records = list(csv.DictReader(io.StringIO(text)))
    try:
        return Policy.from_rows(records)
    except PolicyError as error:
        raise PolicyError("%s: %s" % (path, error))


def signature_form(obj):
    """The signed form of a parsed JSON object: 'sigstore-bundle', 'dsse', 'in-toto-link' or None."""
    if not isinstance(obj, dict):
        return None
    if str(obj.get("mediaType", "")).startswith("application/vnd.dev.sigstore.bundle"):
        return "sigstore-bundle"
    if "payloadType" in obj and "payload" in obj:
        return "dsse" if obj.get("signatures") else None
    if isinstance(obj.get("signed"), dict) and obj.get("signatures"):
        return "in-toto-link"
    return None


def unsigned_level(channel=True, require_signatures=False):
    """(trust, signer, reason) of an unsigned document."""
    if require_signatures:
        return ("untrusted", "", "unsigned, and the site requires signatures")
    if channel:
        return ("channel", "", "unsigned, from a source the site declared trusted")
    return ("untrusted", "", "unsigned, and not from a source the site declared trusted")


def unverified_level(form, channel=True, require_signatures=False):
    """(trust, signer, reason) of a document whose signature cannot be checked where it is read.

    The in-Splunk rebuild (``| clawsbomindex``) ships no cryptography, so it
    verifies nothing: a signed document (``form`` from :func:`signature_form`)
    counts there as what its channel is worth, never ``verified``; with
    signatures required nothing read there is trusted (build the tables with
    ``claw-ta sbom-index --trust-policy --require-signatures`` instead).
    """
    if not form:
        return unsigned_level(channel, require_signatures)
    why = "%s signature not checked (signatures are verified by claw-ta sbom-index --trust-policy)" % form
    if require_signatures:
        return ("untrusted", "", why + ", and the site requires verified signatures")
    if channel:
        return ("channel", "", why + "; counted as its source: a channel the site declared trusted")
    return ("untrusted", "", why + ", and not from a source the site declared trusted")
