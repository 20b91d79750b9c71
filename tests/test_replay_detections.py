"""The replay of each detection on small hand-made scenarios: what alerts, what does not."""
import json
import os

from tests.replay_support import D_APP, IMG, IMG2, alerts_of, ev, ids, lib, make_scenario

CDX = json.dumps({
    "bomFormat": "CycloneDX", "specVersion": "1.5",
    "metadata": {"component": {"type": "application", "name": "api",
                               "hashes": [{"alg": "SHA-256", "content": D_APP[7:]}]}},
    "components": [{"type": "file", "name": "/usr/lib/x86_64-linux-gnu/libssl.so.3"}]})


def test_unlisted_library_alerts_once_per_entity_and_listed_ones_do_not(tmp_path):
    events = [lib("12:0%d:00" % i, "/usr/lib/x86_64-linux-gnu/libssl.so.3") for i in range(5)]
    events += [lib("12:1%d:00" % i, "/usr/lib/x86_64-linux-gnu/libevil.so") for i in range(3)]
    path = make_scenario(tmp_path, "s", events, sboms={"api.cdx.json": CDX})
    alerts = alerts_of(path)
    assert ids(alerts) == ["claw_unlisted_library_load"]
    alert = alerts[0]
    assert alert["library_path"] == "/usr/lib/x86_64-linux-gnu/libevil.so"
    assert (alert["subject_digest"], alert["host"], alert["namespace"]) == (D_APP, "node-1", "payments")
    assert alert["count"] == 3 and alert["severity"] == "high"


def test_no_sbom_means_no_unlisted_alert(tmp_path):
    path = make_scenario(tmp_path, "s", [lib("12:01:00", "/usr/lib/libx.so")])
    assert alerts_of(path) == []


def test_workload_detections_alert_only_in_prod_namespaces(tmp_path):
    events = [lib("12:01:00", "/dev/shm/x.so", namespace="dev-frank"),
              lib("12:02:00", "/dev/shm/y.so", namespace="checkout")]
    alerts = alerts_of(make_scenario(tmp_path, "s", events))
    assert [(a["detection_id"], a["library_path"]) for a in alerts] == [
        ("claw_library_from_writable_path", "/dev/shm/y.so")]


def test_namespace_lookup_override_changes_the_environment(tmp_path):
    events = [lib("12:01:00", "/dev/shm/x.so", namespace="checkout")]
    lookups = {"claw_namespace_env.csv": "namespace,environment\ncheckout,nonprod\n*,prod\n"}
    assert alerts_of(make_scenario(tmp_path, "s", events, lookups=lookups)) == []


def test_writable_paths_memfd_deleted_overlay_and_the_jni_exception(tmp_path):
    paths = ["/tmp/a.so", "/var/tmp/b.so", "/memfd:payload (deleted)", "/tmp/gone.so (deleted)",
             "/proc/self/fd/7", "/var/lib/containerd/x/rootfs/tmp/c.so", "/usr/lib/libssl.so.3",
             "/opt/tmp/d.so", "/usr/lib/gone.so (deleted)"]
    events = [lib("12:0%d:00" % i, p) for i, p in enumerate(paths)]
    events.append(lib("12:20:00", "/tmp/libnetty_transport_native_epoll_x86_641234.so",
                      triggering_process_path="/opt/java/bin/java"))
    events.append(lib("12:21:00", "/tmp/libnetty_transport_native_epoll_x86_645678.so"))  # not java
    alerts = alerts_of(make_scenario(tmp_path, "s", events))
    found = sorted(a["library_path"] for a in alerts if a["detection_id"] == "claw_library_from_writable_path")
    assert found == sorted(paths[:6] + ["/tmp/libnetty_transport_native_epoll_x86_645678.so"])


def test_writable_path_covers_run_fileless_names_and_judges_deleted_files_by_their_folder(tmp_path):
    """/run and /var/run are writable; memfd and /proc fd loads are fileless wherever they are; odd
    names there still count; a file deleted while mapped counts by its folder (a system library
    replaced by a package upgrade while mapped is no finding); a containerd task bundle's rootfs is
    judged by what follows it. The same regex runs in SPL (PCRE, lookahead included: "Splunk regular
    expressions are PCRE", https://help.splunk.com/splunk-enterprise/search/search-manual/9.0/expressions-and-predicates/spl-and-regular-expressions)."""
    task = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + "a" * 64 + "/rootfs"
    k3s = "/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/" + "b" * 64 + "/rootfs"
    firing = ["/run/x.so", "/var/run/secrets/y.so", "/run/lock/libz.so.1\u00a0", "/run/user/0/a\\b.so",
              "/proc/thread-self/fd/3", "/proc/4242/fd/9", "/memfd:x", "/run/z.so (deleted)",
              task + "/tmp/e.so", task + "/run/f.so", k3s + "/dev/shm/g.so", task + "/proc/self/fd/4",
              "/var/lib/docker/overlay2/" + "c" * 64 + "/merged/run/h.so",
              "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/42/fs/var/run/i.so",
              # names made not to match, wherever they are
              "/usr/lib/x86_64-linux-gnu/libz.so.1\u00a0", "/usr/lib/libz.so.1 ", " /usr/lib/libz.so.1",
              "/usr/lib/lib\x07z.so.1", "/opt/app\\lib.so", "/usr/lib/libz\u200b.so.1"]
    quiet = ["/usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)", task + "/usr/lib/x86_64-linux-gnu/libc.so.6",
             k3s + "/usr/lib/libz.so.1", "/var/run/containerd/io.containerd.runtime.v2.task/k8s.io/x/rootfs/usr/lib/a.so",
             "/srv/run/x.so", "/opt/proc/self/fd/3", "/opt/my app/lib.so"]
    events = [lib("12:%02d:00" % i, p) for i, p in enumerate(firing + quiet)]
    alerts = alerts_of(make_scenario(tmp_path, "s", events))
    found = sorted(a["library_path"] for a in alerts if a["detection_id"] == "claw_library_from_writable_path")
    assert found == sorted(firing)
    # the saved search's where clause, run by the test eval interpreter (SPL string escapes, then PCRE)
    from claw_ta import conffile
    from claw_ta_tools.emulators.spl_eval import compile_expression
    from tests import paths as test_paths
    search = conffile.parse(os.path.join(test_paths.APP_DEFAULT, "savedsearches.conf"))[
        "Claw - Library From Writable Path - Rule"]["search"]
    where = next(line for line in search.splitlines() if line.startswith("| where "))
    condition = compile_expression(where[len("| where "):].rstrip(" \\"))
    assert [p for p in firing + quiet if condition({"library_path": p, "triggering_process_path": "/usr/bin/api"})] \
        == firing


def _attest(ts, verdict, digest, ref, namespace="payments", **kw):
    return ev(ts, "image_attestation", verdict=verdict, subject_digest=digest, image_digest=digest,
              image_ref=ref, k8s_namespace=namespace, **kw)


def test_nonprod_image_in_prod_is_keyed_on_image_ref(tmp_path):
    events = [_attest("12:01:00", "Allowed", IMG, "registry.example.com/staging/api:2", slsa_level=3),
              # the same digest promoted under a production reference: normal
              _attest("12:02:00", "Allowed", IMG2, "registry.example.com/prod/api:2", slsa_level=3),
              _attest("12:03:00", "Allowed", IMG2, "registry.example.com/staging/api:2",
                      namespace="staging-api", slsa_level=3),
              _attest("12:04:00", "Denied", IMG, "registry.example.com/staging/api:3", namespace="shop",
                      slsa_level=3)]
    alerts = alerts_of(make_scenario(tmp_path, "s", events))
    assert [(a["detection_id"], a["image_ref"], a["namespace"]) for a in alerts] == [
        ("claw_nonprod_image_in_prod", "registry.example.com/staging/api:2", "payments")]
    assert alerts[0]["severity"] == "medium"


def test_low_slsa_uses_the_threshold_macro(tmp_path):
    events = [_attest("12:01:00", "Allowed", IMG, "r/p/api:1", slsa_level=1),
              _attest("12:02:00", "Allowed", IMG2, "r/p/api:2", slsa_level=2),
              _attest("12:03:00", "Denied", "sha256:" + "e" * 64, "r/p/api:3", slsa_level=0),
              _attest("12:04:00", "Allowed", "sha256:" + "f" * 64, "r/p/api:4")]  # no level: no decision
    path = make_scenario(tmp_path, "s", events)

    def low(alerts):
        return sorted(a["subject_digest"] for a in alerts if a["detection_id"] == "claw_low_slsa_in_prod")
    assert low(alerts_of(path)) == [IMG]
    from claw_ta_tools.detections.engine import read_macro_params
    params = read_macro_params()
    params["claw_min_slsa_level"] = 3
    assert low(alerts_of(path, params=params)) == [IMG, IMG2]


def test_manifest_mismatch_alerts_in_any_environment(tmp_path):
    events = [ev("12:01:00", "manifest_digest_mismatch", expected_digest=IMG, observed_digest=IMG2,
                 image_ref="r/a:1", k8s_namespace="dev-x", reason="digest changed")]
    alerts = alerts_of(make_scenario(tmp_path, "s", events))
    assert [(a["detection_id"], a["namespace"], a["severity"]) for a in alerts] == [
        ("claw_manifest_digest_mismatch", "dev-x", "high")]


def test_manifest_mismatch_of_a_platform_manifest_named_by_the_same_attestation(tmp_path):
    statement = {"_type": "https://in-toto.io/Statement/v1",
                 "subject": [{"name": "index", "digest": {"sha256": IMG[7:]}},
                             {"name": "amd64", "digest": {"sha256": IMG2[7:]}}],
                 "predicateType": "https://cyclonedx.org/bom",
                 "predicate": {"bomFormat": "CycloneDX", "specVersion": "1.5",
                               "components": [{"type": "file", "name": "/usr/lib/libc.so.6"}]}}
    third = "sha256:" + "9" * 64
    events = [ev("12:01:00", "manifest_digest_mismatch", expected_digest=IMG, observed_digest=IMG2,
                 image_ref="r/a:1", k8s_namespace="shop"),
              ev("12:02:00", "manifest_digest_mismatch", expected_digest=IMG, observed_digest=third,
                 image_ref="r/a:1", k8s_namespace="shop")]
    path = make_scenario(tmp_path, "s", events, sboms={"a.intoto.json": json.dumps(statement)})
    assert [a["observed_digest"] for a in alerts_of(path)] == [third]


def test_sensor_silent_after_heartbeats_stop(tmp_path):
    events = [ev("11:%02d:00" % m, "agent_heartbeat", host="node-1") for m in range(0, 60)]
    events += [ev("12:%02d:00" % m, "agent_heartbeat", host="node-1") for m in range(0, 45)]
    events += [ev("12:%02d:00" % m, "agent_heartbeat", host="node-2") for m in range(0, 60)]
    alerts = alerts_of(make_scenario(tmp_path, "s", events))
    assert [(a["detection_id"], a["host"], a["agent_id"]) for a in alerts] == [
        ("claw_sensor_silent", "node-1", "claw-node-1")]
    assert alerts[0]["silent_minutes"] == 16.0


def test_sensor_silent_for_less_than_the_threshold_does_not_alert(tmp_path):
    events = [ev("12:%02d:00" % m, "agent_heartbeat") for m in range(0, 52)]
    assert alerts_of(make_scenario(tmp_path, "s", events)) == []


def test_denied_then_allowed_with_another_digest_within_30_minutes(tmp_path):
    events = [_attest("11:50:00", "Denied", IMG2, "registry:5000/p/api:2.0"),  # history counts
              _attest("12:10:00", "Allowed", IMG, "registry:5000/p/api:2.0"),
              # same digest re-allowed after an exception: no tag swap
              _attest("12:20:00", "Denied", "sha256:" + "1" * 64, "r/p/web:1"),
              _attest("12:25:00", "Allowed", "sha256:" + "1" * 64, "r/p/web:1"),
              # too late
              _attest("12:20:00", "Denied", "sha256:" + "2" * 64, "r/p/db:1"),
              _attest("12:51:00", "Allowed", "sha256:" + "3" * 64, "r/p/db:1"),
              # other namespace
              _attest("12:30:00", "Denied", "sha256:" + "4" * 64, "r/p/q:1", namespace="other"),
              _attest("12:31:00", "Allowed", "sha256:" + "5" * 64, "r/p/q:1")]
    alerts = alerts_of(make_scenario(tmp_path, "s", events))
    assert [(a["detection_id"], a["image_ref"], a["image_digest"], a["denied_digest"]) for a in alerts] == [
        ("claw_denied_then_allowed", "registry:5000/p/api:2.0", IMG, IMG2)]


def test_allowlist_override_suppresses_and_expired_rows_do_not(tmp_path):
    events = [lib("12:01:00", "/dev/shm/agent.so"), lib("12:02:00", "/dev/shm/other.so")]
    allow = ("detection_id,subject_digest,library_path,namespace,image_ref,expires,reason\n"
             "claw_library_from_writable_path,,/dev/shm/agent.so,,registry.example.com/payments/*,2027-01-01,vendor\n"
             "*,,/dev/shm/other.so,,,2026-11-19,expired\n")
    alerts = alerts_of(make_scenario(tmp_path, "s", events, lookups={"claw_allowlist.csv": allow}))
    assert [a["library_path"] for a in alerts] == ["/dev/shm/other.so"]


def test_risk_incident_needs_two_detections_on_one_entity(tmp_path):
    from claw_ta_tools.detections import engine
    events = [lib("12:01:00", "/dev/shm/x.so", namespace="dev-a", pod="dbg-1"),
              _attest("12:02:00", "Allowed", IMG, "r/p/api:1", namespace="dev-a", slsa_level=0, k8s_pod="dbg-1"),
              lib("12:03:00", "/dev/shm/y.so", namespace="payments", pod="api-9")]
    result = engine.replay(make_scenario(tmp_path, "s", events))
    incidents = result.incidents()
    assert [(i["risk_object"], i["detections"]) for i in incidents] == [
        ("dbg-1", ["claw_library_from_writable_path", "claw_low_slsa_in_prod"])]
    assert incidents[0]["risk_score"] == 64 + 35
    # nonprod: risk only, no alert for the dev pod
    assert [a["namespace"] for a in result.alerts] == ["payments"]
