"""Sigstore bundles v0.1-v0.3 (keyless ``cosign attest``, GitHub attestations, npm provenance).

Checked offline by sigstore-python (``Verifier`` over the ``trusted_root.json``
the site provides; nothing is fetched): the Fulcio certificate chain to the
trusted root, the signed certificate timestamp, the transparency-log entry
(inclusion proof / signed entry timestamp against the root's Rekor keys), the
DSSE signature with the certificate's key and the log entry's agreement with
the envelope. The signer is the certificate's identity (its SAN) and OIDC
issuer, matched exactly against the policy's sigstore rows afterwards.

What sigstore-python refuses stays refused: a bundle whose log entry is an
``intoto`` 0.0.2 entry (what ``cosign attest`` wrote before DSSE entries, e.g.
npm's provenance bundles) is reported as not verified with sigstore's reason,
never accepted on a weaker check of our own. A bundle that signs a separate
artifact (a message signature, no DSSE envelope) holds no document to index.
"""
import json
import logging

from claw_ta_tools.attest.result import Result, failed

KIND = "sigstore-bundle"
IN_TOTO = "application/vnd.in-toto+json"
_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"


def load_trusted_root(path):
    """sigstore TrustedRoot from a ``trusted_root.json`` (or a ClientTrustConfig holding one)."""
    from sigstore.models import ClientTrustConfig, TrustedRoot
    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8")
    if "trustedRoot" in json.loads(text):
        return ClientTrustConfig.from_json(text).trusted_root
    return TrustedRoot.from_file(path)


class _Recorder(object):
    """A sigstore verification policy that keeps the certificate; the identity is matched afterwards."""

    def __init__(self):
        self.cert = None

    def verify(self, cert):
        self.cert = cert


def identity_of(cert):
    """(SAN values, issuer) of a Fulcio certificate."""
    from cryptography import x509
    from cryptography.x509.oid import ObjectIdentifier
    sans = []
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = ext.get_values_for_type(x509.RFC822Name) + ext.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        pass
    issuers = set()
    for oid, der in ((_ISSUER_V1, False), (_ISSUER_V2, True)):
        try:
            value = cert.extensions.get_extension_for_oid(ObjectIdentifier(oid)).value.value
        except x509.ExtensionNotFound:
            continue
        if der:  # a DER UTF8String: tag, length (short or long form), text
            value = value[2 + (value[1] & 0x7f if value[1] & 0x80 else 0):]
        issuers.add(value.decode("utf-8", "replace"))
    # Fulcio writes the issuer in both extensions; two different values name no issuer.
    return sans, issuers.pop() if len(issuers) == 1 else ""


class BundleVerifier(object):
    """Checks bundles against one trusted root; ``rows``: the policy's sigstore rows."""

    def __init__(self, trusted_root_path, rows):
        self.path = trusted_root_path
        self.rows = rows
        self._verifier = None
        self.error = None
        if trusted_root_path:
            try:
                from sigstore.verify import Verifier
                self._verifier = Verifier(trusted_root=load_trusted_root(trusted_root_path))
            except ImportError:
                self.error = "Sigstore bundles need sigstore 4 (Python 3.10+), not installed here"
            except Exception as error:  # sigstore raises several kinds for a bad root
                self.error = "trusted root %s cannot be used: %s" % (trusted_root_path, error)
        logging.getLogger("sigstore").setLevel(logging.ERROR)

    def verify(self, raw, names_of):
        """Result of one bundle (its JSON text)."""
        if self._verifier is None:
            return failed(KIND, self.error or "Sigstore bundle not checked: no trusted root given "
                          "(claw-ta sbom-index --trusted-root trusted_root.json)")
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import Bundle
        recorder = _Recorder()
        try:
            bundle = Bundle.from_json(raw)
            if bundle._dsse_envelope is None:
                return failed(KIND, "Sigstore bundle signs a separate artifact (no DSSE envelope): "
                              "it holds no document to index")
            payload_type, payload = self._verifier.verify_dsse(bundle, recorder)
        except Exception as error:  # sigstore and its models raise many kinds for a malformed bundle
            if not isinstance(error, (SigstoreError, ValueError, TypeError, KeyError, AttributeError)):
                error = "%s: %s" % (type(error).__name__, error)
            if _tlog_kind(raw) == "intoto":
                return failed(KIND, "Sigstore bundle not verified: its transparency-log entry is an intoto "
                              "entry (what cosign attest wrote before DSSE entries), which sigstore-python "
                              "does not verify (sigstore says: %s); re-attest with a current cosign (dsse "
                              "entries), or index the SBOM unsigned through a trusted channel" % error)
            signer = ""
            if recorder.cert is not None:
                sans, issuer = identity_of(recorder.cert)
                signer = "%s (%s)" % (sans[0] if sans else "?", issuer)
            return failed(KIND, "Sigstore bundle not verified: %s" % error, signer)
        sans, issuer = identity_of(recorder.cert)
        if payload_type != IN_TOTO:
            return failed(KIND, "Sigstore bundle verified, but its payload is %s, not an in-toto statement"
                          % payload_type)
        signer, in_policy = "%s (%s)" % (sans[0] if sans else "?", issuer), False
        for row in self.rows:  # exact SAN and issuer, as sigstore's Identity policy compares them
            if issuer and row.issuer == issuer and row.identity in sans:
                signer, in_policy = row.signer, True
                break
        return Result(True, True, signer, KIND, "Sigstore bundle verified offline: certificate for %s"
                      % signer, payload, names_of(payload), in_policy)


def _tlog_kind(raw):
    """The kind of a bundle's first transparency-log entry ("intoto", "dsse", ...), or ""."""
    try:
        entries = json.loads(raw)["verificationMaterial"]["tlogEntries"]
        return str(entries[0]["kindVersion"]["kind"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
