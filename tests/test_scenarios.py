"""The bundled replay scenarios (scenarios/): generated reproducibly, complete, and scored 1.0.

`claw-ta evaluate` runs as a subprocess (``python -m claw_ta_tools.cli``), exactly as
a user runs it; the coverage checks read the detection ids from the single
source of truth (``claw_ta.detections.definitions``).
"""
import glob
import json
import os
import shutil
import subprocess
import sys

from tests import paths

SCENARIO_DIRS = sorted(glob.glob(os.path.join(paths.SCENARIOS, "*", "")))
GENERATOR = "claw_ta_tools.scenarios.generate"  # run as `python -m` with tools/ on the path
RISK_ID = "claw_workload_risk"

# Families of false positives named by the detections issue -> the benign scenario that models each.
BENIGN_FAMILIES = {
    "service-mesh sidecars": "benign-service-mesh-sidecar",
    "APM agents injected with ld.so.preload": "benign-apm-ld-preload",
    "JNI libraries extracted to /tmp": "benign-jni-libs-extracted-to-tmp",
    "debug containers and sanitizers in dev namespaces": "benign-dev-debug-sanitizer",
    "HPA scale-out": "benign-hpa-scale-out",
    "node drains": "benign-node-drain",
    "rollouts and promotions": "benign-rollout-promotion",
    "CI build pods": "benign-ci-build-pods",
    "multi-arch images": "benign-multi-arch-image",
}


def _env():
    return paths.source_env(PYTHONDONTWRITEBYTECODE="1")


def _claw_ta(*args):
    return subprocess.run([sys.executable, "-m", "claw_ta_tools.cli"] + list(args), cwd=paths.REPO, env=_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=600)


def _expected(folder):
    path = os.path.join(folder, "expected.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _detections():
    from claw_ta.detections import definitions  # conftest puts the app's bin/ on sys.path
    return definitions


def test_scenarios_exist_and_are_only_scenarios():
    names = [os.path.basename(os.path.dirname(d)) for d in SCENARIO_DIRS]
    assert len(names) >= 18, names
    for folder, name in zip(SCENARIO_DIRS, names):
        assert name.startswith(("attack-", "benign-")), "%s: not a scenario folder (name)" % name
        with open(os.path.join(folder, "scenario.json"), encoding="utf-8") as handle:
            meta = json.load(handle)
        assert meta["name"] == name
        assert len(meta["description"]) > 200, "%s: describe what it models and why" % name
        assert meta["detect_from"] < meta["detect_to"]
        assert glob.glob(os.path.join(folder, "events", "*")), "%s: no events" % name
        if name.startswith("attack-"):
            assert _expected(folder), "%s: an attack scenario expects alerts" % name


def _check_regeneration(python):
    proc = subprocess.run([python, "-B", "-m", GENERATOR, "--check"], cwd=paths.REPO,
                          env=dict(os.environ, PYTHONPATH=paths.TOOLS),  # standard library only: no claw_ta
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    assert proc.returncode == 0, "regenerating differs:\n%s%s" % (proc.stdout[-3000:], proc.stderr[-3000:])


def test_generator_regenerates_identical_files():
    """claw_ta_tools.scenarios.generate --check: what the generator makes equals what is committed, byte for byte."""
    _check_regeneration(sys.executable)


def test_generator_output_does_not_depend_on_the_python_version(splunk_python):
    """The same bytes under both Splunk interpreters (seeds and formatting are version-independent)."""
    _check_regeneration(splunk_python)


def test_check_detects_a_changed_file(tmp_path):
    """The --check mode can fail: a scenario file edited by hand is reported."""
    from claw_ta_tools.scenarios import generate
    root = str(tmp_path)
    scenarios = generate.write(root)
    assert generate.check(root) == []
    name = sorted(scenarios)[0]
    target = os.path.join(root, name, "scenario.json")
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(" ")
    assert generate.check(root) == ["%s/scenario.json: differs" % name]


def test_evaluate_scores_one():
    """The README command: every alert and risk incident expected, nothing else (precision = recall = 1.0)."""
    proc = _claw_ta("evaluate", *(SCENARIO_DIRS + ["--min-precision", "1.0", "--min-recall", "1.0"]))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "TOTAL (%d scenarios)" % len(SCENARIO_DIRS) in proc.stdout


def test_evaluate_without_risk_misses_only_risk_incidents():
    """--no-risk: precision stays 1.0 and the only expected lines not raised are risk incidents."""
    proc = _claw_ta("evaluate", *(SCENARIO_DIRS + ["--no-risk", "--json"]))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert not result["errors"]
    assert result["total"]["precision"] == 1.0
    missed = [(s["scenario"], m) for s in result["scenarios"] for m in s["missed"]]
    assert missed and all(m["detection_id"] == RISK_ID for _, m in missed), missed
    assert result["total"]["matched"] + len(missed) == result["total"]["expected"]


TUNING_LOOKUPS = ("claw_allowlist.csv", "claw_namespace_env.csv", "claw_image_env.csv")


def test_every_tuning_override_is_load_bearing(tmp_path):
    """A scenario's allowlist / environment override changes what fires: without it the score drops
    (so the tuning semantics really are exercised, not decorative)."""
    copies = []
    for folder in SCENARIO_DIRS:
        for name in TUNING_LOOKUPS:
            if os.path.exists(os.path.join(folder, "lookups", name)):
                copy = os.path.join(str(tmp_path), "%s--without-%s" % (os.path.basename(folder[:-1]), name[:-4]))
                shutil.copytree(folder, copy)
                os.remove(os.path.join(copy, "lookups", name))
                copies.append(copy)
    assert len(copies) >= 5
    proc = _claw_ta("evaluate", "--json", *copies)
    result = json.loads(proc.stdout)
    assert not result["errors"]
    unchanged = [s["scenario"] for s in result["scenarios"] if s["precision"] == 1.0 and s["recall"] == 1.0]
    assert unchanged == []


def test_every_detection_has_an_attack_scenario_with_its_entity_fields():
    definitions = _detections()
    wanted = dict((d.id, d.entity_fields) for d in definitions.DETECTIONS)
    wanted[definitions.RISK_INCIDENT["id"]] = ("risk_object",)
    covered = set()
    for folder in SCENARIO_DIRS:
        attack = os.path.basename(os.path.dirname(folder)).startswith("attack-")
        for line in _expected(folder):
            fields = wanted.get(line["detection_id"])
            assert fields is not None, "%s: unknown detection_id %s" % (folder, line["detection_id"])
            missing = [f for f in fields if f not in line]
            assert not missing, "%s: expected %s lacks entity fields %s" % (folder, line["detection_id"], missing)
            if attack:
                covered.add(line["detection_id"])
    assert sorted(set(wanted) - covered) == []


def test_every_false_positive_family_has_a_benign_scenario():
    names = set(os.path.basename(os.path.dirname(d)) for d in SCENARIO_DIRS)
    for family, name in sorted(BENIGN_FAMILIES.items()):
        assert name in names, "no benign scenario for %s" % family
    with open(os.path.join(paths.SCENARIOS, "README.md"), encoding="utf-8") as handle:
        catalogue = handle.read()
    for name in names:
        assert "`%s`" % name in catalogue, "%s missing from scenarios/README.md" % name


def _event_files(suffix):
    return sorted(glob.glob(os.path.join(paths.SCENARIOS, "*", "events", "*" + suffix)))


def test_all_four_delivery_shapes_are_used():
    raw = [p for p in _event_files(".jsonl") if not p.endswith((".hec.jsonl", ".journal.jsonl"))]
    assert raw and _event_files(".journal.jsonl")
    cri = _event_files(".cri.log")
    partial_long = False
    for path in cri:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        for i, line in enumerate(lines):
            if " stdout P " in line:
                j = i
                while " stdout F " not in lines[j]:
                    j += 1
                body = "".join(l.split(" ", 3)[3] for l in lines[i:j + 1])
                partial_long = partial_long or (len(body) > 16384 and json.loads(body)["event_type"])
    assert partial_long, "no CRI line over 16 KiB split into P/F partials"
    shapes = set()
    for path in _event_files(".hec.jsonl"):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)["event"]
                shapes.add(("log" in record, "event_type" in record))
    # Merge_Log Off (log only), Merge_Log On with Keep_Log Off (fields only) and Keep_Log On (both)
    assert {(True, False), (False, True), (True, True)} <= shapes, shapes


def test_scenarios_stay_small():
    total = 0
    for root, _dirs, files in os.walk(paths.SCENARIOS):
        assert "__pycache__" not in root, "bytecode cache inside scenarios/: `scenarios/*/` would list it"
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    # 24 MB: the log format's k8s_labels on every workload event and k8s_node_labels on
    # heartbeats added about 1.5 MB to the 19.6 MB the scenarios held before them
    assert total < 24 * 1024 * 1024, "scenarios/ is %.1f MB" % (total / 1048576.0)


def _sboms(pattern):
    found = sorted(glob.glob(os.path.join(paths.SCENARIOS, "*", "sboms", pattern)))
    assert found, "no %s SBOM in any scenario" % pattern
    return found


def test_sboms_validate_with_the_real_tools():
    """The scenario SBOMs are real-shaped: CycloneDX JSON/XML pass the official schemas
    (cyclonedx-python-lib), SPDX 2.3 passes spdx-tools' validation, in-toto links load with in-toto."""
    import re
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from cyclonedx.validation.xml import XmlValidator
    from in_toto.models.metadata import Metablock
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    def cdx_json(text):
        return JsonStrictValidator(SchemaVersion.from_version(json.loads(text)["specVersion"])).validate_str(text)

    for path in _sboms("*.cdx.json"):
        with open(path, encoding="utf-8") as handle:
            assert cdx_json(handle.read()) is None, path
    for path in _sboms("*.intoto.json"):
        with open(path, encoding="utf-8") as handle:
            statement = json.load(handle)
        assert statement["_type"] == "https://in-toto.io/Statement/v1" and statement["subject"], path
        assert cdx_json(json.dumps(statement["predicate"])) is None, path
    for path in _sboms("*.cdx.xml"):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        version = re.search(r"cyclonedx.org/schema/bom/(1[.][0-9])", text).group(1)
        assert XmlValidator(SchemaVersion.from_version(version)).validate_str(text) is None, path
    for path in _sboms("*.spdx.json"):
        assert validate_full_spdx_document(parse_file(path)) == [], path
    for path in _sboms("*.link"):
        link = Metablock.load(path).signed
        assert link.materials and link.products, path
