"""The site trust policy (claw_ta.sbom.trust): rows, scope, levels, the KV collection, the CLI options.

Splunk behaviour relied on (not run here, no Splunk server in these tests):
KV store collections are declared in collections.conf (``field.<name>`` types:
https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/collections.conf)
and read through an ``external_type = kvstore`` lookup definition in transforms.conf
(https://help.splunk.com/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/9.1/use-the-configuration-files-to-configure-lookups/configure-kv-store-lookups);
their permissions are ``[<object_type>/<object_name>] access = read : [...], write : [...]``
stanzas of metadata/default.meta, and writing needs write access to the object
(https://docs.splunk.com/Documentation/Splunk/9.0.2/Admin/Defaultmetaconf).
"""
import json
import os
import subprocess
import sys

import pytest

from tests import paths
from tests.support import signing

from claw_ta import conffile
from claw_ta.sbom.trust import (COLLECTION, FIELDS, Policy, PolicyError, key_fingerprint, load_policy,
                                pattern_covers, signature_form, unverified_level)


def test_key_fingerprint_is_the_spki_sha256_without_cryptography():
    for kind in ("p256", "p384", "ed25519", "rsa"):
        key = signing.generate(kind)
        assert key_fingerprint(signing.public_pem(key)) == signing.fingerprint(key)


def test_rows_are_checked():
    key = signing.generate("p256")
    other = signing.generate("p256")
    good = signing.key_row(key)
    assert Policy.from_rows([good]).rows[0].signer == signing.fingerprint(key)
    bad = [
        (dict(good, key_fingerprint=signing.fingerprint(other)), "is not the public key's"),
        ({"signer_kind": "key", "images": "*"}, "needs public_key"),
        ({"signer_kind": "gpg", "images": "*"}, "signer_kind"),
        (dict(good, images="", subjects=""), "vouch for nothing"),
        (dict(good, images="registry.example.com/shop/web*"), "only '*'"),
        (dict(good, images="*/shop"), "only '*'"),
        (dict(good, subjects="sha256:1234"), "not a sha256 digest"),
        ({"signer_kind": "sigstore", "identity": "a@example.com", "images": "*"}, "identity and issuer"),
        ({"signer_kind": "sigstore", "identity": "a@example.com", "issuer": "https://*.example.com",
          "images": "*"}, "no wildcards"),
    ]
    for row, message in bad:
        with pytest.raises(PolicyError) as error:
            Policy.from_rows([good, row])
        assert message in str(error.value) and "row 2" in str(error.value)


def test_repository_patterns_compare_normalized_references():
    policy = Policy.from_rows([{"signer_kind": "key", "key_fingerprint": "sha256:" + "0" * 64,
                                "images": "Registry.Example.com:443/shop/* nginx"}])
    patterns = policy.rows[0].images
    assert patterns == ["registry.example.com/shop/*", "docker.io/library/nginx"]
    covers = lambda name: any(pattern_covers(p, name) for p in patterns)  # noqa: E731
    assert covers("registry.example.com/shop/web")
    assert covers("registry.example.com/shop/team/web:1.0")
    assert covers("index.docker.io/library/nginx@sha256:" + "1" * 64)
    assert not covers("registry.example.com/shopping/web")       # a prefix of a name is no scope
    assert not covers("registry.example.com/shop")
    assert not covers("evil.example.com/registry.example.com/shop/web")
    assert not covers("")
    # statement subjects named by purls (BuildKit): the repository they give, nothing for other purls
    assert covers("pkg:oci/web@sha256:%s?repository_url=registry.example.com%%2Fshop%%2Fweb" % ("1" * 64))
    assert covers("pkg:docker/registry.example.com/shop/web@1.0?platform=linux%2Famd64")
    assert covers("pkg:docker/library/nginx@1.25") and covers("pkg:docker/nginx@1.25")
    assert not covers("pkg:docker/shop/web@1.0")                 # Docker Hub's shop/web
    assert not covers("pkg:oci/web@sha256:" + "1" * 64)          # no repository_url: no repository
    assert not covers("pkg:npm/registry.example.com/shop/web@1.0")
    listed = Policy.from_rows([{"signer_kind": "key", "key_fingerprint": "sha256:" + "0" * 64,
                                "images": "a.example.com/x, b.example.com/y",
                                "subjects": "sha256:%s,%s" % ("1" * 64, "2" * 64)}]).rows[0]
    assert listed.images == ["a.example.com/x", "b.example.com/y"] and len(listed.subjects) == 2
    whole = Policy.from_rows([{"signer_kind": "key", "key_fingerprint": "sha256:" + "0" * 64,
                               "images": "Registry.Example.com/* library/*"}]).rows[0].images
    assert whole == ["registry.example.com/*", "docker.io/library/*"]
    assert pattern_covers(whole[0], "registry.example.com/any/team/app:1")
    assert not pattern_covers(whole[0], "registry.example.com.evil.io/app")
    assert pattern_covers(whole[1], "nginx") and not pattern_covers(whole[1], "bitnami/nginx")


def test_policy_loads_from_exported_csv_and_json(tmp_path):
    key = signing.generate("ed25519")
    row = dict(signing.key_row(key, images="registry.example.com/shop/*"), note="CI key", _key="abc")
    import csv
    path = tmp_path / "policy.csv"
    with open(str(path), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    assert load_policy(str(path)).rows[0].signer == signing.fingerprint(key)   # a PEM across lines in CSV
    path = tmp_path / "policy.json"
    path.write_text(json.dumps([row]))   # what the KV store REST endpoint returns
    assert load_policy(str(path)).rows[0].public_key.startswith("-----BEGIN PUBLIC KEY-----")
    path.write_text("{")
    with pytest.raises(PolicyError):
        load_policy(str(path))


def test_signature_forms_and_the_in_splunk_level():
    assert signature_form({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}) == "sigstore-bundle"
    assert signature_form({"payloadType": "x", "payload": "", "signatures": [{"sig": ""}]}) == "dsse"
    assert signature_form({"payloadType": "x", "payload": "", "signatures": []}) is None
    assert signature_form({"signed": {"_type": "link"}, "signatures": [{}]}) == "in-toto-link"
    assert signature_form({"bomFormat": "CycloneDX"}) is None
    # the rebuild inside Splunk verifies nothing: never verified
    assert unverified_level("dsse")[0] == "channel"
    assert "not checked" in unverified_level("dsse")[2]
    assert unverified_level("dsse", require_signatures=True)[0] == "untrusted"
    assert unverified_level("sigstore-bundle", channel=False)[0] == "untrusted"
    assert unverified_level(None)[0] == "channel"
    assert unverified_level(None, require_signatures=True)[0] == "untrusted"


def test_kv_collection_shipped_empty_and_written_by_review_roles_only():
    collections = conffile.parse(os.path.join(paths.APP_DEFAULT, "collections.conf"))
    transforms = conffile.parse(os.path.join(paths.APP_DEFAULT, "transforms.conf"))
    meta = conffile.parse(os.path.join(paths.APP, "metadata", "default.meta"))
    stanza = collections[COLLECTION]
    assert stanza["replicate"] == "false"
    assert set(f[len("field."):] for f in stanza if f.startswith("field.")) == set(FIELDS)
    lookup = transforms[COLLECTION]
    assert lookup["external_type"] == "kvstore" and lookup["collection"] == COLLECTION
    assert [f.strip() for f in lookup["fields_list"].split(",")] == ["_key"] + list(FIELDS)
    for section in ("collections/" + COLLECTION, "transforms/" + COLLECTION):
        access = meta[section]["access"]
        write = access.split("write :")[1]
        assert set(write.strip(" []").replace(",", " ").split()) == {"admin", "sc_admin", "claw_admin",
                                                                       "claw_reviewer"}
        assert "*" not in access
    # shipped empty: no lookup file, no default rows anywhere in the app
    for folder, _, files in os.walk(paths.APP):
        assert not [f for f in files if f.startswith(COLLECTION)], folder


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "claw_ta_tools.cli", "sbom-index"] + list(args),
                          capture_output=True, text=True, env=paths.source_env())


def test_cli_refuses_a_bad_policy_with_its_reason(tmp_path):
    sbom = tmp_path / "a.cdx.json"
    sbom.write_text(json.dumps(signing.file_sbom({"/usr/lib/libz.so.1": "e5" * 32})))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps([{"signer_kind": "sigstore", "identity": "x", "issuer": "https://*",
                                   "images": "*"}]))
    done = _cli("--trust-policy", str(policy), "-o", str(tmp_path / "l.csv"), str(sbom))
    assert done.returncode == 2 and "no wildcards" in done.stderr and "row 1" in done.stderr
    done = _cli("--trust-policy", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "l.csv"), str(sbom))
    assert done.returncode == 2 and "--trust-policy" in done.stderr


def test_cli_warns_where_nothing_can_be_verified(tmp_path):
    from claw_ta_tools import sbom_index
    import argparse
    parser = argparse.ArgumentParser()
    sbom_index.add_arguments(parser)
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps([{"signer_kind": "sigstore", "identity": "a@example.com",
                                   "issuer": "https://accounts.example.com", "images": "*"}]))
    for argv, message in ((["--require-signatures"], "no trust policy rows"),
                          (["--trust-policy", str(policy)], "without --trusted-root")):
        import io
        from contextlib import redirect_stderr
        err = io.StringIO()
        with redirect_stderr(err):
            assert sbom_index.make_assessor(parser.parse_args(argv + ["x"])) is not None
        assert message in err.getvalue()
    assert sbom_index.make_assessor(parser.parse_args(["x"])) is None   # no trust option: as before


def test_the_parser_tells_the_in_splunk_rebuild_which_documents_came_signed():
    from claw_ta.sbom.parse import parse_text
    key = signing.generate("p256")
    stmt = signing.statement([("registry.example.com/shop/web", "a1" * 32)],
                             signing.file_sbom({"/usr/lib/libz.so.1": "e5" * 32}))
    signed = signing.to_bytes(signing.envelope(key, stmt))
    bare = signing.to_bytes(stmt)
    assert [d.signature_form for d in parse_text(signed + bare, "x.jsonl")] == ["dsse", ""]
    [doc] = parse_text(signed, "x")
    assert unverified_level(doc.signature_form)[0] == "channel"
    assert unverified_level(doc.signature_form, require_signatures=True)[0] == "untrusted"


def test_cli_trust_options_end_to_end(tmp_path):
    """claw-ta sbom-index: levels in the subjects table for a signed, a foreign-signed and an unsigned SBOM."""
    import csv
    import inspect
    from claw_ta.sbom.index import build_tables
    if "assess" not in inspect.signature(build_tables).parameters:
        pytest.skip("the tables have no trust columns in this version (build_tables(assess=...))")
    ours, foreign = signing.generate("ed25519"), signing.generate("p256")
    sboms = tmp_path / "sboms"
    sboms.mkdir()
    sbom = signing.file_sbom({"/usr/lib/libz.so.1": "e5" * 32})
    subjects = {"ours": "a1" * 32, "foreign": "b2" * 32, "bare": "c3" * 32}
    for name, key in (("ours", ours), ("foreign", foreign), ("bare", None)):
        stmt = signing.statement([("registry.example.com/shop/" + name, subjects[name])], sbom)
        body = signing.envelope(key, stmt) if key else stmt
        (sboms / (name + ".intoto.json")).write_bytes(signing.to_bytes(body))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps([signing.key_row(ours, images="registry.example.com/shop/*")]))

    def levels(*options):
        out = tmp_path / "l.csv"
        done = _cli("--trust-policy", str(policy), "-o", str(out), *(list(options) + [str(sboms)]))
        assert done.returncode == 0, done.stderr
        with open(str(tmp_path / "claw_sbom_subjects.csv"), newline="") as handle:
            rows = {r["subject_digest"][7:]: r for r in csv.DictReader(handle)}
        return dict((name, rows[digest]["sbom_trust"]) for name, digest in subjects.items()), rows

    found, rows = levels()
    assert found == {"ours": "verified", "foreign": "untrusted", "bare": "channel"}
    assert rows[subjects["ours"]]["sbom_signer"] == signing.fingerprint(ours)
    assert "no key of the trust policy" in rows[subjects["foreign"]]["sbom_trust_reason"]
    assert levels("--untrusted-folders")[0] == {"ours": "verified", "foreign": "untrusted", "bare": "untrusted"}
    assert levels("--require-signatures")[0]["bare"] == "untrusted"


def test_a_bundle_signing_a_separate_file_says_so():
    from claw_ta.sbom.model import SbomError
    from claw_ta.sbom.parse import parse_text
    bundle = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {},
              "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": ""}, "signature": ""}}
    with pytest.raises(SbomError) as error:
        parse_text(json.dumps(bundle).encode(), "sbom.cdx.json.sigstore.json")
    assert "without a DSSE envelope" in str(error.value)
