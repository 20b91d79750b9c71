"""The replay reads all four delivery shapes alike, survives bad input, and its CLI."""
import json
import subprocess
import sys

from tests import paths
from tests.replay_support import alerts_of, ev, lib, make_scenario


def _events():
    return [lib("12:01:00", "/dev/shm/a.so"),
            ev("12:02:00", "manifest_digest_mismatch", expected_digest="sha256:" + "1" * 64,
               observed_digest="sha256:" + "2" * 64, image_ref="r/a:1", k8s_namespace="shop")]


def _shapes(events):
    raw = "".join(json.dumps(e) + "\n" for e in events)
    cri = ""
    for e in events:
        text = json.dumps(e)
        cri += "%s stdout P %s\n%s stdout F %s\n" % (e["timestamp"], text[:40], e["timestamp"], text[40:])
    hec = "".join(json.dumps({"time": 0, "host": "hec", "source": "claw-runtime", "sourcetype": "claw:runtime",
                              "event": {"log": json.dumps(e), "stream": "stdout"}}) + "\n" for e in events)
    merged = "".join(json.dumps({"time": 0, "event": dict(e, stream="stdout")}) + "\n" for e in events)
    journal = "".join(json.dumps({"MESSAGE": json.dumps(e), "_HOSTNAME": e["host"],
                                  "_SYSTEMD_UNIT": "claw-runtime.service"}) + "\n" for e in events)
    return {"raw.jsonl": raw, "c.cri.log": cri, "h.hec.jsonl": hec, "m.hec.jsonl": merged,
            "j.journal.jsonl": journal}


def _strip(alerts):
    return sorted(json.dumps(a, sort_keys=True) for a in alerts)


def test_every_delivery_shape_gives_the_same_alerts(tmp_path):
    events = _events()
    reference = _strip(alerts_of(make_scenario(tmp_path, "raw", events)))
    assert len(reference) == 2
    for name, text in _shapes(events).items():
        path = make_scenario(tmp_path, "shape-" + name, [], raw_files={name: text})
        assert _strip(alerts_of(path)) == reference, name


def test_malformed_lines_unknown_types_and_huge_fields_are_skipped_not_fatal(tmp_path):
    from claw_ta_tools.detections import engine
    bad = ("not json\n[1,2]\n" + json.dumps(ev("12:03:00", "brand_new_type")) + "\n"
           + json.dumps({"event_type": "library_load", "library_path": "/tmp/x.so"}) + "\n"  # no time
           + json.dumps(lib("12:04:00", "/tmp/" + "A" * 100000 + ".so")) + "\n")
    path = make_scenario(tmp_path, "s", _events(), raw_files={"bad.jsonl": bad})
    result = engine.replay(path)
    assert result.stats["malformed"] == 2 and result.stats["no_time"] == 1
    assert any("malformed" in w for w in result.warnings)
    assert len([a for a in result.alerts if a["detection_id"] == "claw_library_from_writable_path"]) == 2


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "claw_ta_tools.cli"] + list(args), cwd=paths.REPO, env=paths.source_env(),
                          capture_output=True, text=True, timeout=120)


def test_cli_replay_one_and_several_directories_and_risk(tmp_path):
    one = make_scenario(tmp_path, "one", _events())
    two = make_scenario(tmp_path, "two", [lib("12:05:00", "/tmp/z.so", pod="p"),
                                         ev("12:06:00", "image_attestation", verdict="Allowed",
                                            slsa_level="0", subject_digest="sha256:" + "7" * 64,
                                            image_digest="sha256:" + "7" * 64, image_ref="r/x:1",
                                            k8s_namespace="payments", k8s_pod="p")])
    done = _cli("replay", one)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    assert len(lines) == 2 and all("scenario" not in x for x in lines)
    done = _cli("replay", "--risk", one, two)
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    assert {x["scenario"] for x in lines} == {"one", "two"}
    assert [x["risk_object"] for x in lines if x["detection_id"] == "claw_workload_risk"] == ["p"]


def test_cli_replay_bad_directory_is_named_and_the_others_still_run(tmp_path):
    good = make_scenario(tmp_path, "good", _events())
    done = _cli("replay", str(tmp_path / "missing"), good)
    assert done.returncode == 2
    assert "missing" in done.stderr and "scenario.json" in done.stderr
    assert len(done.stdout.splitlines()) == 2


def test_cli_sample_argument_is_checked(tmp_path):
    done = _cli("replay", "--sample", "0", make_scenario(tmp_path, "s", _events()))
    assert done.returncode != 0 and "--sample" in done.stderr


def test_first_sighting_sampling_keeps_one_off_loads_random_sampling_may_not(tmp_path):
    from claw_ta_tools.detections import engine
    from claw_ta_tools.detections.sampling import first_sighting_sampler, random_sampler
    events = [lib("12:%02d:%02d" % (m, s), "/usr/lib/libc.so.6") for m in range(10) for s in range(0, 60, 2)]
    events.append(lib("12:30:00", "/dev/shm/injected.so"))
    path = make_scenario(tmp_path, "s", events)
    kept = engine.replay(path, sampler=first_sighting_sampler(100))
    assert [a["library_path"] for a in kept.alerts] == ["/dev/shm/injected.so"]
    assert kept.stats["sampled_out"] > 250
    dropped = sum(1 for seed in range(20)
                  if not engine.replay(path, sampler=random_sampler(100, seed=seed)).alerts)
    assert dropped > 10  # random 1-in-100 loses the single injected load most of the time
