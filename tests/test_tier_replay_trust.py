"""The offline replay reads the site's `claw_tier_trusted_namespaces`.

The replay's TierAnomaly stage must score with the effective macro value
(default/ then local/macros.conf), as `claw_tier_baseline_detect` passes it to
``clawtierbaseline`` in Splunk, not with the shipped default (no namespace
trusted). The scenario: API (a backend image) bursts on the new node fe-9,
whose only other workload is WEB, labelled ``tier=frontend`` from namespace
``shop``. With ``shop`` trusted, fe-9's tier is frontend (pod_labels):
API is outside its tiers, an alert. With nothing trusted, fe-9's tier is
unknown: no alert. The scenario format (docs/scenario-format.md) has no
macro override, so the app's macros.conf files are the only source.
"""
import json
import os
import shutil

import pytest

from claw_ta import APP_DIR
from claw_ta_tools.detections import engine
from claw_ta_tools.detections.scenario import ScenarioError, read_tier_trusted_namespaces

WEB, API = "sha256:" + "a" * 64, "sha256:" + "b" * 64
DETECT_FROM = "2026-11-20T12:00:00Z"


def _line(t, digest, host, tier):
    return json.dumps({"timestamp": t, "event_type": "binary_attestation", "host": host, "verdict": "Allowed",
                       "subject_digest": "sha256:" + "c" * 64, "image_digest": digest, "k8s_namespace": "shop",
                       "k8s_pod": "pod-" + host, "k8s_labels": {"tier": tier}, "slsa_level": 3})


def _scenario(root):
    path = os.path.join(str(root), "scn")
    os.makedirs(os.path.join(path, "events"))
    with open(os.path.join(path, "scenario.json"), "w") as handle:
        json.dump({"name": "trust", "description": "", "detect_from": DETECT_FROM,
                   "detect_to": "2026-11-20T13:00:00Z"}, handle)
    lines = []
    for hour in range(24):  # history: WEB on fe-1..3 (frontend), API on be-1..3 (backend)
        t = "2026-11-19T%02d:10:00Z" % hour
        lines += [_line(t, WEB, "fe-%d" % i, "frontend") for i in (1, 2, 3)]
        lines += [_line(t, API, "be-%d" % i, "backend") for i in (1, 2, 3)]
    lines += [_line("2026-11-20T12:%02d:00Z" % m, WEB, "fe-9", "frontend") for m in range(0, 50, 10)]
    # 40 API attestations on fe-9, its pods labelled frontend too (a label never vouches for its own digest)
    lines += [_line("2026-11-20T12:%02d:%02dZ" % (20 + m // 60, m % 60), API, "fe-9", "frontend")
              for m in range(0, 240, 6)]
    with open(os.path.join(path, "events", "events.jsonl"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def _app(root, local_definition):
    """An app folder with the shipped default/macros.conf and a site local/macros.conf."""
    app = os.path.join(str(root), "app")
    os.makedirs(os.path.join(app, "default"))
    shutil.copy(os.path.join(APP_DIR, "default", "macros.conf"), os.path.join(app, "default"))
    if local_definition is not None:
        os.makedirs(os.path.join(app, "local"))
        with open(os.path.join(app, "local", "macros.conf"), "w") as handle:
            handle.write("[claw_tier_trusted_namespaces]\ndefinition = %s\n" % local_definition)
    return app


def _tier_alerts(replay):
    return sorted((a.get("image_digest"), a.get("host")) for a in replay.alerts
                  if a.get("detection_id") == "claw_attestation_spike_outside_tier")


def test_shipped_default_trusts_no_namespace(tmp_path):
    assert read_tier_trusted_namespaces(_app(tmp_path, None)) == frozenset()
    assert read_tier_trusted_namespaces() == frozenset()


@pytest.mark.parametrize("definition, expected", [
    ('trusted_namespaces="shop,payments"', {"shop", "payments"}),
    ("trusted_namespaces=shop", {"shop"}),
    ('trusted_namespaces="*"', {"*"}),
    ('trusted_namespaces=""', set()),
    ("", set()),
])
def test_local_macro_is_read(tmp_path, definition, expected):
    assert read_tier_trusted_namespaces(_app(tmp_path, definition)) == frozenset(expected)


def test_bad_local_macro_names_the_file(tmp_path):
    with pytest.raises(ScenarioError, match="local.*claw_tier_trusted_namespaces.*trusted_namespaces"):
        read_tier_trusted_namespaces(_app(tmp_path, 'trusted_namespaces="Shop_Prod"'))


def test_replay_uses_the_site_trusted_namespaces(tmp_path):
    scn = engine.Scenario(_scenario(tmp_path))
    trusted = engine.Replay(scn, app_dir=_app(tmp_path / "trusted", 'trusted_namespaces="shop"'))
    assert _tier_alerts(trusted) == [(API, "fe-9")]
    shipped = engine.Replay(scn, app_dir=_app(tmp_path / "shipped", None))
    assert _tier_alerts(shipped) == []
