"""claw-ta evaluate: the scoring rules of the scenario format, output and thresholds."""
import json
import subprocess
import sys

from claw_ta_tools.detections.evaluate import matches, score, total
from tests import paths
from tests.replay_support import IMG, ev, lib, make_scenario


def test_expected_line_matches_on_its_own_fields_only():
    alert = {"detection_id": "x", "host": "n1", "namespace": "a", "count": 3, "pod": ["p1", "p2"]}
    assert matches({"detection_id": "x", "host": "n1"}, alert)
    assert matches({"detection_id": "x", "pod": "p2"}, alert)
    assert not matches({"detection_id": "x", "host": "n2"}, alert)
    assert not matches({"detection_id": "y"}, alert)
    assert not matches({"detection_id": "x", "missing": "v"}, alert)


def test_precision_recall_missed_and_extra():
    alerts = [{"detection_id": "a", "host": "1"}, {"detection_id": "a", "host": "2"}, {"detection_id": "b"}]
    expected = [{"detection_id": "a", "host": "1"}, {"detection_id": "c"}]
    s = score(expected, alerts)
    assert (s["matched"], s["precision"], s["recall"]) == (1, 1 / 3.0, 0.5)
    assert s["missed"] == [{"detection_id": "c"}]
    assert [a.get("host") for a in s["extra"]] == ["2", None]


def test_each_alert_matches_once_and_specific_lines_go_first():
    alerts = [{"detection_id": "a", "host": "1"}]
    s = score([{"detection_id": "a"}, {"detection_id": "a"}], alerts)
    assert (s["matched"], s["recall"], s["precision"]) == (1, 0.5, 1.0)
    two = [{"detection_id": "a", "host": "1"}, {"detection_id": "a", "host": "2"}]
    s = score([{"detection_id": "a"}, {"detection_id": "a", "host": "1"}], two)
    assert s["matched"] == 2 and not s["extra"]


def test_benign_scenario_and_totals():
    assert score([], []) ["precision"] == 1.0
    s = score([], [{"detection_id": "a"}])
    assert (s["precision"], s["recall"]) == (0.0, 1.0)
    t = total([score([{"detection_id": "a"}], [{"detection_id": "a"}]), s])
    assert (t["precision"], t["recall"], t["alerts"], t["expected"]) == (0.5, 1.0, 2, 1)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "claw_ta_tools.cli", "evaluate"] + list(args), cwd=paths.REPO, env=paths.source_env(),
                          capture_output=True, text=True, timeout=120)


def test_cli_thresholds_exit_codes_and_report(tmp_path):
    hit = {"detection_id": "claw_library_from_writable_path", "library_path": "/dev/shm/a.so"}
    good = make_scenario(tmp_path, "good", [lib("12:01:00", "/dev/shm/a.so")], expected=[hit])
    noisy = make_scenario(tmp_path, "noisy", [lib("12:01:00", "/dev/shm/b.so")])
    done = _cli(good, "--min-precision", "1", "--min-recall", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "precision 1.000  recall 1.000" in done.stdout
    done = _cli(good, noisy, "--min-precision", "0.9")
    assert done.returncode == 1
    assert "extra:" in done.stdout and "/dev/shm/b.so" in done.stdout
    assert "TOTAL (2 scenarios)" in done.stdout and "precision 0.500" in done.stdout
    done = _cli(good, noisy, "--min-precision", "0.5", "--json")
    assert done.returncode == 0
    report = json.loads(done.stdout)
    assert [s["scenario"] for s in report["scenarios"]] == ["good", "noisy"]
    assert report["total"]["precision"] == 0.5


def test_cli_missed_alert_and_bad_arguments(tmp_path):
    path = make_scenario(tmp_path, "m", [], expected=[{"detection_id": "claw_sensor_silent", "host": "n"}])
    done = _cli(path, "--min-recall", "1")
    assert done.returncode == 1 and "missed:" in done.stdout
    slsa = ev("12:02:00", "image_attestation", verdict="Allowed", slsa_level="0", subject_digest=IMG,
              image_digest=IMG, image_ref="r/x:1", k8s_namespace="payments", k8s_pod="p")
    risk = make_scenario(tmp_path, "r", [lib("12:01:00", "/dev/shm/a.so", pod="p"), slsa],
                         expected=[{"detection_id": "claw_library_from_writable_path"},
                                   {"detection_id": "claw_low_slsa_in_prod"}])
    assert _cli(risk, "--no-risk", "--min-precision", "1").returncode == 0
    done = _cli(risk, "--min-precision", "1")  # the incident on pod p is scored by default
    assert done.returncode == 1 and "claw_workload_risk" in done.stdout
    done = _cli(path, "--min-recall", "1.5")
    assert done.returncode == 2 and "--min-recall" in done.stderr
    bad = make_scenario(tmp_path, "bad", [], expected=[])
    with open(bad + "/expected.jsonl", "w") as handle:
        handle.write("{not json\n")
    done = _cli(bad)
    assert done.returncode == 2 and "expected.jsonl:1" in done.stderr
