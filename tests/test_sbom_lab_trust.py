"""The SBOM lab scored with signatures required: its two public keys in the trust policy.

Every lab scenario's SBOMs are indexed by `claw-ta sbom-index --trust-policy P
--require-signatures` (P: a row per key of the lab's keys/*.pub.pem), and every
library load of the scenario's events is checked against those tables. What must hold:
- the attested (DSSE, ECDSA P-256) and linked (in-toto-run, Ed25519) variants are
  `verified`, and the unsigned variants are `untrusted`, so they never decide a verdict;
- no legitimate load is `unlisted` in any scenario (0 false unlisted alerts);
- where the signed SBOM lists files with SHA-256 (sbom4files, lib4sbom's conversion of
  it, the in-toto link with the executables) every attack load of expected.jsonl is
  `unlisted` (file-level recall 1.0), as without signatures.

Set CLAW_SBOMLAB_OUT to the lab's OUTDIR (../shared/sbomlab/build.sh, as root); skipped without it.
"""
import csv
import json
import os
import subprocess
import sys

import pytest

from tests import paths

from claw_ta.sbom.matcher import SbomIndex

LAB = os.environ.get("CLAW_SBOMLAB_OUT", "")
FILE_LEVEL = ("sbom4files-cdx+attested", "sbom4files-spdx+attested", "lib4sbom-from-sbom4files-cdx+attested",
              "intoto-link-bin+archlib")


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    if not LAB or not os.path.isdir(os.path.join(LAB, "scenarios")):
        pytest.skip("no SBOM lab output: build it with ../shared/sbomlab/build.sh OUTDIR (as root) "
                    "and set CLAW_SBOMLAB_OUT=OUTDIR")
    rows = []
    for name in sorted(os.listdir(os.path.join(LAB, "keys"))):
        if name.endswith(".pub.pem"):
            with open(os.path.join(LAB, "keys", name)) as handle:
                rows.append({"signer_kind": "key", "public_key": handle.read(), "images": "*",
                             "note": "SBOM lab " + name})
    assert len(rows) == 2, "the lab writes two public keys"
    path = tmp_path_factory.mktemp("policy") / "policy.json"
    path.write_text(json.dumps(rows))
    return str(path)


def index(scenario, policy, out):
    """(SbomIndex or None when nothing indexed, subject rows) of the scenario's SBOMs."""
    libraries, subjects = os.path.join(out, "libs.csv"), os.path.join(out, "subjects.csv")
    done = subprocess.run([sys.executable, "-m", "claw_ta_tools.cli", "sbom-index", "--trust-policy", policy,
                           "--require-signatures", "--output", libraries, "--subjects-output", subjects,
                           os.path.join(LAB, "scenarios", scenario, "sboms")],
                          env=paths.source_env(), capture_output=True, text=True, timeout=600)
    if done.returncode == 1 and "no document" in done.stderr:  # every document was skipped (no subject)
        return None, []
    assert done.returncode == 0, done.stderr[-2000:]
    with open(subjects, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return SbomIndex.load(subjects, libraries), rows


def loads(scenario):
    with open(os.path.join(LAB, "scenarios", scenario, "events", "library_load.jsonl"), encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def attacks(scenario):
    found = set()
    with open(os.path.join(LAB, "scenarios", scenario, "expected.jsonl"), encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("detection_id") == "claw_unlisted_library_load":
                found.add((row["subject_digest"], row["library_path"], row["host"]))
    return found


def test_lab_scores_with_signatures_required(policy, tmp_path):
    scenarios = sorted(os.listdir(os.path.join(LAB, "scenarios")))
    assert len(scenarios) >= 40
    false_unlisted, missed, checked = [], [], 0
    for scenario in scenarios:
        out = tmp_path / scenario.replace("+", "_").replace("@", "_")
        out.mkdir()
        idx, rows = index(scenario, policy, str(out))
        signed = scenario.endswith("+attested") or scenario.startswith("intoto-link")
        levels = set(r["sbom_trust"] for r in rows)
        if rows:
            assert levels == ({"verified"} if signed else {"untrusted"}), (scenario, levels)
        expected = attacks(scenario)
        statuses = {}  # an alert is per (subject, library path, host): any unlisted load of it raises it
        for event in loads(scenario):
            key = (event.get("subject_digest"), event.get("library_path"), event.get("host"))
            status = idx.check(event)["sbom_status"] if idx is not None else "no_sbom"
            statuses.setdefault(key, set()).add(status)
            checked += 1
            if not signed:
                assert status == "no_sbom", (scenario, key[1], status)  # untrusted never decides
        for key, seen in statuses.items():
            if key in expected:
                if scenario in FILE_LEVEL and "unlisted" not in seen:
                    missed.append((scenario, key[1], seen))
            elif "unlisted" in seen:
                false_unlisted.append((scenario, key[1]))
        assert scenario not in FILE_LEVEL or expected <= set(statuses), scenario
    assert checked > 1000
    assert false_unlisted == []
    assert missed == []
