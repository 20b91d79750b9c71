"""Keyless Sigstore bundles, checked offline against a trusted_root.json the site gives.

The two real bundles of ../shared/sboms/signed (skipped where absent): Sigstore
staging's DSSE bundle (v0.3, Rekor v2 entry) verifies with the staging trusted
root that sigstore-python ships; npm's provenance bundle of sigstore@3.1.0
(production, an ``intoto`` 0.0.2 log entry) is refused by sigstore 4.5.1, and
the add-on reports it untrusted with that reason instead of a weaker check.
Neither is an SBOM (SLSA provenance of a file), so the level is checked on a
document whose payload digest is the signed payload's.
"""
import glob
import hashlib
import json
import os

import pytest

from tests import paths  # noqa: F401

sigstore = pytest.importorskip("sigstore", reason="sigstore 4 (Python 3.10+) verifies keyless bundles")

from claw_ta.sbom.model import SbomDocument  # noqa: E402
from claw_ta.sbom.trust import Policy  # noqa: E402
from claw_ta_tools.attest import Assessor, Verifier  # noqa: E402

STAGING = "a.dsse.staging-rekor-v2.txt.sigstore.json"
NPM = "npm-sigstore-3.1.0.sigstore.json"
IDENTITY = ("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
            ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main")
ISSUER = "https://token.actions.githubusercontent.com"


def _root(instance):
    import sigstore
    found = glob.glob(os.path.join(os.path.dirname(sigstore.__file__), "_store", "*%s*" % instance,
                                   "trusted_root.json"))
    if not found:
        pytest.skip("sigstore-python ships no %s trusted root in this version" % instance)
    return found[0]


@pytest.fixture
def bundle(shared_dir):
    def read(name):
        path = os.path.join(shared_dir, "sboms", "signed", "sigstore-python", name)
        if not os.path.isfile(path):
            pytest.skip("%s is not in ../shared/sboms/signed" % name)
        with open(path, "rb") as handle:
            return handle.read()
    return read


def _row(identity=IDENTITY, issuer=ISSUER, images="*", subjects=""):
    return {"signer_kind": "sigstore", "identity": identity, "issuer": issuer, "images": images,
            "subjects": subjects}


def _doc_for(result):
    """A document parsed from exactly the signed payload (its subjects from the statement)."""
    doc = SbomDocument("in-toto-statement", "a.txt")
    for digest in result.names:
        doc.add_subject(digest, "file")
    doc.payload_sha256 = hashlib.sha256(result.payload).hexdigest()
    return doc


def test_staging_bundle_verifies_offline_and_names_identity_and_issuer(bundle):
    raw = bundle(STAGING)
    [(result, _)] = Verifier(Policy.from_rows([_row()]), _root("sigstage")).check(raw)
    assert result.good and result.kind == "sigstore-bundle", result.reason
    assert result.signer == "%s (%s)" % (IDENTITY, ISSUER)
    statement = json.loads(result.payload)
    assert statement["subject"][0]["name"] == "a.txt"
    assert list(result.names) == [statement["subject"][0]["digest"]["sha256"]]


def test_staging_bundle_level_follows_the_policy(bundle):
    raw = bundle(STAGING)
    root = _root("sigstage")
    [(result, _)] = Verifier(Policy(), root).check(raw)
    doc = _doc_for(result)
    digest = "sha256:" + next(iter(result.names))
    assert Assessor(Policy.from_rows([_row()]), trusted_root=root)("b", raw, doc)[0] == "verified"
    assert Assessor(Policy.from_rows([_row(images="", subjects=digest)]), trusted_root=root)("b", raw, doc)[0] \
        == "verified"
    # a subject named a.txt is no image in a repository scope
    assert Assessor(Policy.from_rows([_row(images="registry.example.com/*")]),
                    trusted_root=root)("b", raw, doc)[0] == "untrusted"
    for row in (_row(issuer="https://accounts.google.com"), _row(identity=IDENTITY + "x"),
                _row(identity=IDENTITY.replace("@refs/heads/main", "@refs/heads/dev"))):
        trust, signer, reason = Assessor(Policy.from_rows([row]), trusted_root=root)("b", raw, doc)
        assert trust == "untrusted" and "not in the trust policy" in reason, row
        assert signer == "%s (%s)" % (IDENTITY, ISSUER)  # who signed is still reported


def test_staging_bundle_against_the_production_root_or_no_root_is_untrusted(bundle):
    raw = bundle(STAGING)
    [(result, _)] = Verifier(Policy.from_rows([_row()]), _root("sigstore.dev")).check(raw)
    assert not result.good and "not verified" in result.reason
    [(result, _)] = Verifier(Policy.from_rows([_row()])).check(raw)
    assert not result.good and "no trusted root" in result.reason


def test_changed_bundle_payload_is_refused(bundle):
    import base64
    bundle_json = json.loads(bundle(STAGING))
    statement = json.loads(base64.b64decode(bundle_json["dsseEnvelope"]["payload"]))
    statement["subject"][0]["digest"]["sha256"] = "00" * 32
    bundle_json["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    [(result, _)] = Verifier(Policy.from_rows([_row()]), _root("sigstage")).check(json.dumps(bundle_json).encode())
    assert not result.good and result.reason.startswith("Sigstore bundle not verified")


def test_npm_intoto_entry_is_untrusted_with_sigstores_reason(bundle):
    raw = bundle(NPM)
    for instance in ("sigstore.dev", "sigstage"):
        [(result, _)] = Verifier(Policy.from_rows([_row()]), _root(instance)).check(raw)
        assert result.signed and not result.good
        assert "intoto entry" in result.reason and "sigstore-python does not verify" in result.reason
    doc = SbomDocument("in-toto-statement", NPM)
    trust, _, reason = Assessor(Policy.from_rows([_row()]), trusted_root=_root("sigstore.dev"))("n", raw, doc)
    assert trust == "untrusted" and "intoto entry" in reason


def test_a_client_trust_config_is_accepted_as_root(bundle, tmp_path):
    config = tmp_path / "config.json"
    with open(_root("sigstage")) as handle:
        root = json.load(handle)
    signing_config = os.path.join(os.path.dirname(_root("sigstage")), "signing_config.v0.2.json")
    with open(signing_config) as handle:
        config.write_text(json.dumps({"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
                                      "trustedRoot": root, "signingConfig": json.load(handle)}))
    [(result, _)] = Verifier(Policy.from_rows([_row()]), str(config)).check(bundle(STAGING))
    assert result.good, result.reason
