"""The recipe of docs/sbom-trust.md ("From CI to a verified document"), run as written, offline.

cosign is replaced by what it writes: an ECDSA P-256 key (cosign's key type,
generated here), an in-toto Statement v1 about ``IMAGE@DIGEST`` around the
CycloneDX SBOM, in a DSSE envelope signed over PAE, one envelope per line
(``cosign download attestation``). The policy row is built with the page's
``jq`` command, the key id checked against the page's ``openssl`` command,
and ``claw-ta sbom-index`` runs with the page's options.
"""
import csv
import inspect
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests import paths
from tests.support import signing

from claw_ta.sbom.index import build_tables
from claw_ta.sbom.parse import parse_text
from claw_ta.sbom.trust import key_fingerprint, load_policy
from claw_ta_tools.attest import Assessor

DOC = os.path.join(paths.REPO, "docs", "sbom-trust.md")
IMAGE = "registry.example.com/shop/web"
DIGEST = "5e" * 32


def _block(start):
    with open(DOC, encoding="utf-8") as handle:
        blocks = re.findall(r"```sh\n(.*?)```", handle.read(), re.S)
    found = [b for b in blocks if b.startswith(start)]
    assert len(found) == 1, "docs/sbom-trust.md: one sh block starting %r" % start
    return found[0]


@pytest.fixture
def ci(tmp_path):
    """What CI leaves: cosign.pub, sboms/web.att.intoto.jsonl (signed), an unsigned SBOM beside it."""
    key = signing.generate("p256")
    (tmp_path / "cosign.pub").write_text(signing.public_pem(key))
    sbom = signing.file_sbom({"/usr/lib/x86_64-linux-gnu/libssl.so.3": "c3" * 32})
    (tmp_path / "sboms").mkdir()
    (tmp_path / "lookups").mkdir()
    envelope = signing.envelope(key, signing.statement([(IMAGE, DIGEST)], sbom))
    (tmp_path / "sboms" / "web.att.intoto.jsonl").write_bytes(signing.to_bytes(envelope))
    unsigned = signing.statement([(IMAGE, "6f" * 32)], sbom)
    (tmp_path / "sboms" / "other.intoto.json").write_bytes(signing.to_bytes(unsigned))
    return tmp_path, key


def _policy(folder, key):
    if shutil.which("jq"):
        subprocess.run(["sh", "-c", _block("jq -n --rawfile pem cosign.pub")], cwd=str(folder), check=True)
        row = json.loads((folder / "row.json").read_text())
    else:  # the same record the jq command writes
        row = {"signer_kind": "key", "public_key": signing.public_pem(key),
               "images": "registry.example.com/shop/*", "note": "shop CI key"}
    row["_key"], row["_user"] = "5f2a", "nobody"   # what the KV store REST export adds
    (folder / "policy.json").write_text(json.dumps([row]))


def test_key_id_as_the_page_computes_it(ci):
    folder, key = ci
    if not shutil.which("openssl") or not shutil.which("sha256sum"):
        pytest.skip("openssl and sha256sum are needed for the page's key id command")
    line = "openssl pkey -pubin -in cosign.pub -outform DER | sha256sum"
    assert line in open(DOC, encoding="utf-8").read()
    out = subprocess.run(["sh", "-c", line], cwd=str(folder), capture_output=True, text=True, check=True).stdout
    assert "sha256:" + out.split()[0] == key_fingerprint((folder / "cosign.pub").read_text()) \
        == signing.fingerprint(key)


def test_recipe_gives_verified_for_the_signed_sbom_and_untrusted_for_the_unsigned(ci):
    folder, key = ci
    _policy(folder, key)
    # what the command's trust options do, document by document
    assessor = Assessor(load_policy(str(folder / "policy.json")), require_signatures=True)
    levels = {}
    for name in ("web.att.intoto.jsonl", "other.intoto.json"):
        raw = (folder / "sboms" / name).read_bytes()
        [doc] = parse_text(raw, name)
        levels[name] = assessor(name, raw, doc)
    assert levels["web.att.intoto.jsonl"][:2] == ("verified", signing.fingerprint(key))
    assert levels["other.intoto.json"][0] == "untrusted"

    command = _block("claw-ta sbom-index --trust-policy policy.json --require-signatures")
    argv = [a for a in command.replace("\\\n", " ").split()]
    done = subprocess.run([sys.executable, "-m", "claw_ta_tools.cli"] + argv[1:], cwd=str(folder),
                          capture_output=True, text=True, env=paths.source_env())
    if "assess" not in inspect.signature(build_tables).parameters:
        assert done.returncode == 2 and "trust columns" in done.stderr
        pytest.skip("the tables have no trust columns in this version (build_tables(assess=...))")
    assert done.returncode == 0, done.stderr
    with open(str(folder / "lookups" / "claw_sbom_subjects.csv"), newline="") as handle:
        rows = {r["subject_digest"]: r for r in csv.DictReader(handle)}
    assert rows["sha256:" + DIGEST]["sbom_trust"] == "verified"
    assert rows["sha256:" + DIGEST]["sbom_signer"] == signing.fingerprint(key)
    assert rows["sha256:" + "6f" * 32]["sbom_trust"] == "untrusted"
    assert "requires signatures" in rows["sha256:" + "6f" * 32]["sbom_trust_reason"]
