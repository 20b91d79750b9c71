"""From signed files to verdicts: claw-ta sbom-index with the trust options, then the matcher.

A verified document gives the verdicts the same document gives without trust
options; a document signed by a key the policy does not hold decides nothing;
an attacker's document claiming the victim's image digest (the issue's
CycloneDX attack), unsigned or signed by another key, no longer turns the
swapped library's load from ``unlisted`` into anything else once signatures
are required. Runs where the tables have trust columns (build_tables(assess=...)).
"""
import inspect
import json
import subprocess
import sys

import pytest

from tests import paths
from tests.support import signing

from claw_ta.sbom.index import build_tables
from claw_ta.sbom.matcher import SbomIndex

IMAGE = "registry.example.com/shop/web"
VICTIM = "a1" * 32
LIBSSL, TROJAN, EVIL = "c3" * 32, "d4" * 32, "e5" * 32
PATH = "/usr/lib/x86_64-linux-gnu/libssl.so.3"
LOADS = [(PATH, LIBSSL), (PATH, TROJAN), ("/usr/lib/x86_64-linux-gnu/libevil.so", EVIL)]

pytestmark = pytest.mark.skipif("assess" not in inspect.signature(build_tables).parameters,
                                reason="the tables have no trust columns in this version (build_tables(assess=...))")


def _statuses(tmp_path, name, files, *options):
    folder = tmp_path / name
    folder.mkdir()
    for file_name, data in files.items():
        (folder / file_name).write_bytes(data)
    out = tmp_path / (name + "-tables")
    out.mkdir()
    done = subprocess.run([sys.executable, "-m", "claw_ta_tools.cli", "sbom-index", "-o",
                           str(out / "claw_sbom_libraries.csv")] + list(options) + [str(folder)],
                          capture_output=True, text=True, env=paths.source_env())
    assert done.returncode == 0, done.stderr
    index = SbomIndex.load(str(out / "claw_sbom_subjects.csv"), str(out / "claw_sbom_libraries.csv"))
    return [index.check_values("library_load", "", "sha256:" + VICTIM, path, "sha256:" + digest)[0]
            for path, digest in LOADS]


def _policy(tmp_path, key):
    policy = tmp_path / ("policy-%s.json" % signing.fingerprint(key)[7:15])
    policy.write_text(json.dumps([signing.key_row(key, images="registry.example.com/shop/*")]))
    return str(policy)


def _attested(key, libraries):
    stmt = signing.statement([(IMAGE, VICTIM)], signing.file_sbom(libraries))
    return signing.to_bytes(signing.envelope(key, stmt) if key else stmt)


def test_a_verified_document_gives_todays_verdicts_and_a_foreign_signer_none(tmp_path):
    ci, other = signing.generate("p256"), signing.generate("p256")
    files = {"web.att.intoto.jsonl": _attested(ci, {PATH: LIBSSL})}
    today = _statuses(tmp_path, "plain", files)
    assert today == ["listed", "unlisted", "unlisted"]
    assert _statuses(tmp_path, "verified", files, "--trust-policy", _policy(tmp_path, ci),
                     "--require-signatures") == today
    assert _statuses(tmp_path, "foreign", files, "--trust-policy", _policy(tmp_path, other)) == ["no_sbom"] * 3


def test_an_attackers_document_for_the_victims_digest_no_longer_hides_the_swap(tmp_path):
    ci, attacker = signing.generate("p256"), signing.generate("p256")
    victim = _attested(ci, {PATH: LIBSSL})
    for name, forged in (("unsigned", _attested(None, {PATH: TROJAN})),
                         ("foreign", _attested(attacker, {PATH: TROJAN}))):
        files = {"web.att.intoto.jsonl": victim, "evil.intoto.jsonl": forged}
        without = _statuses(tmp_path, name + "-plain", files)
        assert without[1] != "unlisted"          # what the attack does without signatures
        assert _statuses(tmp_path, name + "-trust", files, "--trust-policy", _policy(tmp_path, ci),
                         "--require-signatures") == ["listed", "unlisted", "unlisted"]
