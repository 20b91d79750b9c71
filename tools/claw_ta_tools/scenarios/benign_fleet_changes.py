"""Benign scenarios, continued: dev namespaces, scaling and scheduling, rollouts, CI, multi-arch."""
import json

from claw_ta_tools.scenarios.fleet import DEBIAN12, HOUR, MIN, NS, REG, Image, Lib, Scenario
from claw_ta_tools.scenarios.simulation import Workload, digest
from claw_ta_tools.scenarios.sboms import cyclonedx_json, cyclonedx_xml
from claw_ta_tools.scenarios.attacks_loads_and_images import LEDGER, PAYMENTS, WEB, pods

TIERS = {"frontend": ["prod-fe-0%d" % i for i in (1, 2, 3, 4)],
         "backend": ["prod-be-0%d" % i for i in (1, 2, 3, 4)]}


def _tiers_lookup(sc, extra=()):
    sc.lookup("claw_host_tiers.csv", ["host", "tier"],
              [[h, t] for t, hosts in sorted(TIERS.items()) for h in hosts] + list(extra))


def dev_debug():
    sc = Scenario("benign-dev-debug-sanitizer",
                  "Developer namespaces dev-alice and dev-bob (nonprod): an ephemeral debug container "
                  "(`kubectl debug` with nicolaka/netshoot, no provenance: SLSA 0, allowed by dev-permissive), "
                  "an AddressSanitizer build of payments-api loading libasan/libubsan (not in the release "
                  "SBOM: unlisted), a debug-tools pod whose gdb loads its Python helpers from /tmp, and a hand-built nightly image "
                  "tagged -SNAPSHOT (built by the same SLSA 3 pipeline). Each would match a workload detection "
                  "in prod; in nonprod namespaces they only add risk, and no pod collects risk from two "
                  "different detections, so nothing alerts, not even with --risk. "
                  "Raw JSON lines.")
    f = "dev.jsonl"
    nodes = ["dev-01", "dev-02"]
    sc.heartbeats(f, nodes)
    asan_libs = [Lib("/usr/lib/x86_64-linux-gnu/libasan.so.8.0.0", "libasan8", "12.2.0-14", "debian-12"),
                 Lib("/usr/lib/x86_64-linux-gnu/libubsan.so.1.0.0", "libubsan1", "12.2.0-14", "debian-12")]
    asan = pods(sc, PAYMENTS, "dev-alice", ["dev-01"], "payments-api", slsa=3, policy="dev-permissive")[0]
    asan = asan.moved(sc.sim, binary="/usr/local/bin/gunicorn-asan", image_digest=PAYMENTS.digest)
    sc.steady(f, [asan], per_hour=6)
    t = sc.t0 + 5 * MIN
    while t < sc.t1:
        sc.sim.process_start(f, t, asan, libs=asan_libs + PAYMENTS.libs)
        t += 9 * MIN + sc.sim.jitter(4 * MIN)
    netshoot = Image("docker.io/nicolaka/netshoot", "v0.13", "/usr/bin/tcpdump", DEBIAN12[:6])
    dbg = pods(sc, netshoot, "dev-bob", ["dev-02"], "debugger-x7k2p", slsa=0, policy="dev-permissive")[0]
    sc.sim.process_start(f, sc.t0 + 14 * MIN, dbg, image=True)
    tools = Image(REG + "/platform/debug-tools", "2026.10", "/usr/bin/gdb", DEBIAN12[:8])
    gdb = pods(sc, tools, "dev-alice", ["dev-01"], "debugger-gdb-q9v4m", slsa=3, policy="dev-permissive")[0]
    sc.sim.process_start(f, sc.t0 + 16 * MIN, gdb, image=True, libs=DEBIAN12[:8] + [
        Lib("/tmp/gdb-python-ext-4242/_gdb_helpers.cpython-311-x86_64-linux-gnu.so", "-", "-", "gdb")])
    snap = Image(REG + "/payments/api", "1.5.0-SNAPSHOT", PAYMENTS.binary, PAYMENTS.libs)
    nightly = pods(sc, snap, "dev-alice", ["dev-01"], "payments-api-nightly", slsa=3, policy="dev-permissive")
    sc.steady(f, nightly, per_hour=2, start=sc.t0)
    sc.sboms["payments-api-1.4.0.cdx.json"] = cyclonedx_json(PAYMENTS.ref, PAYMENTS.digest, PAYMENTS.libs)
    return sc


def _tier_fleet(sc, hist, extra_tiers=()):
    _tiers_lookup(sc, extra_tiers)
    for tier, nodes in TIERS.items():  # the node pools label their nodes with their tier
        for node in nodes:
            sc.node_pools[node] = {"tier": tier}
    web = pods(sc, WEB, "shop-prod", TIERS["frontend"][:3], "shop-web", tier="frontend")
    ledger = pods(sc, LEDGER, "payments-prod", TIERS["backend"][:3], "ledger", tier="backend")
    sc.attestation_history(hist, web + ledger, hours=36, per_hour=2)
    return web, ledger


def hpa_scale_out():
    sc = Scenario("benign-hpa-scale-out",
                  "The shop web frontend's HorizontalPodAutoscaler scales from 3 to 13 replicas at 12:10 for a "
                  "sales peak: attestations of its digest jump tenfold on frontend nodes, including prod-fe-04 "
                  "(in the tier lookup but quiet in the baseline) and prod-fe-05, a node the cluster "
                  "autoscaler added this morning that is not in claw_host_tiers.csv yet: its sensor's "
                  "heartbeats carry the node pool's label tier=frontend (k8s_node_labels), so its tier is "
                  "known (node_labels). A spike inside the digest's own tier is not lateral movement: no "
                  "alert. 36 h of history; HEC Merge_Log Off.")
    hist, f = "history.jsonl", "frontend.hec.jsonl"
    web, ledger = _tier_fleet(sc, hist)
    sc.node_pools["prod-fe-05"] = {"tier": "frontend"}
    sc.heartbeats(f, TIERS["frontend"] + TIERS["backend"] + ["prod-fe-05"])
    sc.steady(f, web + ledger, per_hour=2)
    hosts = TIERS["frontend"] + ["prod-fe-05"]
    for i in range(10):
        wl = web[0].moved(sc.sim, node=hosts[i % len(hosts)], pod="shop-web-7d9f8b6c5-h%02d" % i)
        sc.steady(f, [wl], per_hour=1, start=sc.t0 + 10 * MIN + i * 30 * NS)
    sc.sboms["shop-web-5.12.0.cdx.xml"] = cyclonedx_xml(WEB.ref, WEB.digest, WEB.libs)
    return sc


def node_drain():
    sc = Scenario("benign-node-drain",
                  "prod-be-02 is cordoned and drained at 12:05 for a kernel upgrade: its ledger pods are "
                  "rescheduled onto prod-be-03 and prod-be-04 (same backend tier; prod-be-04 had no ledger "
                  "pods in the baseline). The node reboots: its claw-runtime agent is silent for 6 minutes "
                  "(12:20-12:26) and comes back (the daemonset tolerates the cordon). Then the claw-runtime "
                  "daemonset itself is upgraded 1.8.2 -> 1.8.3, node by node, each agent missing one or two "
                  "heartbeats and then emitting an event type this add-on does not know yet "
                  "(agent_config_reload), which must pass through harmlessly. None of this alerts: rescheduling within the tier, a sensor gap shorter than "
                  "10 minutes and a recovered sensor. CRI container log lines.")
    hist, f = "history.jsonl", "claw-runtime.cri.log"
    web, ledger = _tier_fleet(sc, hist)
    nodes = TIERS["frontend"] + TIERS["backend"]
    gaps = {n: ((sc.t0 + (30 + 3 * i) * MIN, sc.t0 + (31 + 3 * i) * MIN + 20 * NS),) for i, n in enumerate(nodes)}
    gaps["prod-be-02"] = ((sc.t0 + 20 * MIN, sc.t0 + 26 * MIN),)
    sc.heartbeats(hist, nodes, end=sc.t0)
    for i, n in enumerate(nodes):
        up = sc.t0 + (31 + 3 * i) * MIN
        sc.sim.heartbeats(f, n, sc.t0, up, gaps=gaps[n], node_labels=sc.node_labels(n))
        sc.sim.heartbeats(f, n, up + 20 * NS, sc.t1, version="1.8.3", node_labels=sc.node_labels(n))
        # 1.8.3 adds an event type this add-on version does not know: it must pass through harmlessly
        ev = sc.sim.base(up + 5 * NS, "agent_config_reload", n)
        ev.update(runtime_version="1.8.3", config_digest=digest("claw-config|2026-11-20"), rules_loaded=412,
                  previous_runtime_version="1.8.2")
        sc.sim.add(f, up + 5 * NS, ev)
    sc.steady(f, web + ledger[:1] + ledger[2:], per_hour=2, start=sc.t0)
    sc.steady(f, ledger[1:2], per_hour=2, start=sc.t0, end=sc.t0 + 5 * MIN)
    for i, node in enumerate(["prod-be-03", "prod-be-04", "prod-be-04"]):
        wl = ledger[1].moved(sc.sim, node=node, pod="ledger-7d9f8b6c5-d%02d" % i)
        sc.steady(f, [wl], per_hour=4, start=sc.t0 + 6 * MIN + i * 20 * NS)
    return sc


def rollout_promotion():
    sc = Scenario("benign-rollout-promotion",
                  "Release of payments-api 1.5.0: the new digest is built once, deployed to payments-staging "
                  "as registry.example.com/staging/payments-api:1.5.0-rc.2 at 12:02 (the shipped "
                  "claw_image_env.csv marks */staging/* nonprod), then PROMOTED: the same digest is copied to "
                  "registry.example.com/payments/api:1.5.0 and rolled out to payments-prod from 12:30 (rolling "
                  "update, maxSurge 1: old pods terminate as new ones start, a burst of attestations of a digest "
                  "with no baseline). Promotion of one digest from staging to production is the normal path: "
                  "not claw_nonprod_image_in_prod (the prod ref is not nonprod); a new digest is never a tier "
                  "anomaly on its own. 36 h baseline history; raw lines and HEC Merge_Log On.")
    hist, f = "history.jsonl", "release.merge.hec.jsonl"
    _tiers_lookup(sc)
    old = pods(sc, PAYMENTS, "payments-prod", TIERS["backend"][:3], "payments-api", tier="backend")
    sc.attestation_history(hist, old, hours=36, per_hour=2)
    sc.heartbeats(f, TIERS["backend"])
    new = Image(REG + "/payments/api", "1.5.0", PAYMENTS.binary, PAYMENTS.libs, label="1.5.0")
    stage_ref = REG + "/staging/payments-api:1.5.0-rc.2"
    staging = [w.moved(sc.sim, namespace="payments-staging", pod="payments-api-6f5e4d3c2-s%d" % i,
                       image_ref=stage_ref, image_digest=new.digest, policy="staging")
               for i, w in enumerate(old[:2])]
    sc.steady(f, staging, per_hour=4, start=sc.t0 + 2 * MIN)
    for i, w in enumerate(old):
        sc.steady(f, [w], per_hour=2, end=sc.t0 + (30 + 4 * i) * MIN)
        wl = w.moved(sc.sim, pod="payments-api-6f5e4d3c2-p%d" % i, image_ref=new.ref, image_digest=new.digest)
        sc.steady(f, [wl], per_hour=2, start=sc.t0 + (31 + 4 * i) * MIN)
    sc.sboms["payments-api-1.4.0.cdx.json"] = cyclonedx_json(PAYMENTS.ref, PAYMENTS.digest, PAYMENTS.libs)
    sc.sboms["payments-api-1.5.0.cdx.json"] = cyclonedx_json(new.ref, new.digest, new.libs)
    return sc


def ci_builds():
    sc = Scenario("benign-ci-build-pods",
                  "GitLab runner pods in the ci-builds namespace (nonprod) build and test services: build tool "
                  "images without provenance (SLSA 0), compilers loading GCC plugins and test binaries loading "
                  "freshly built .so files from /tmp and /builds, every job a new binary digest with no SBOM "
                  "yet (no_sbom), builder images under registry.example.com/ci/ (nonprod). Environment scoping "
                  "keeps every detection from alerting. Tuning for risk: runner pod names are reused by "
                  "every job, so each would collect low-SLSA and writable-path risk and raise a "
                  "claw_workload_risk incident per runner slot; lookups/claw_allowlist.csv has two rows for "
                  "those detections in ci-* namespaces (expiring, with a reason), so nothing fires, with or "
                  "without --risk. HEC Merge_Log Off.")
    sc.lookup("claw_allowlist.csv", ["detection_id", "subject_digest", "library_path", "namespace", "image_ref",
                                     "expires", "reason"],
              [["claw_low_slsa_in_prod", "", "", "ci-*", "", "2027-12-31",
                "CI runners: build tools have no provenance (PLAT-77)"],
               ["claw_library_from_writable_path", "", "", "ci-*", "", "2027-12-31",
                "CI runners: test binaries load freshly built libraries from /tmp (PLAT-77)"]])
    f = "ci.hec.jsonl"
    nodes = ["ci-01", "ci-02"]
    sc.heartbeats(f, nodes)
    builder = Image(REG + "/ci/builder", "gcc13", "/usr/bin/gcc-13", DEBIAN12[:8])
    for job in range(14):
        node = nodes[job % 2]
        pod = "runner-xk2b9-project-%d-concurrent-%d" % (412 + job % 3, job % 4)
        t = sc.t0 - HOUR + job * 8 * MIN + sc.sim.jitter(2 * MIN)
        wl = Workload(sc.sim, "build", node, builder.binary, builder.libs, image_ref=builder.ref,
                      image_digest=builder.digest, namespace="ci-builds", pod=pod, slsa=0,
                      policy="ci-permissive", labels={"app": "gitlab-runner"})
        sc.sim.process_start(f, t, wl, image=True)
        cc1 = wl.moved(sc.sim, binary="/usr/libexec/gcc/x86_64-linux-gnu/13/cc1plus")
        for k in range(3):
            sc.sim.process_start(f, t + (k + 1) * 5 * NS, cc1, libs=DEBIAN12[:6] + [
                Lib("/usr/lib/gcc/x86_64-linux-gnu/13/plugin/annobin.so", "annobin", "12.31", "ci")])
        test = wl.moved(sc.sim, binary="/builds/payments/api/build/test_ledger_%d" % job)
        test.binary_digest = digest("ci-test|%d" % job)
        sc.sim.process_start(f, t + 2 * MIN, test, libs=DEBIAN12[:8] + [
            Lib("/builds/payments/api/build/libledger.so.1.%d" % job, "-", "-", "ci-%d" % job),
            Lib("/tmp/pytest-of-root/pytest-%d/test_native0/_native.so" % job, "-", "-", "ci-%d" % job)])
    return sc


AARCH64 = [Lib(l.path.replace("x86_64-linux-gnu", "aarch64-linux-gnu").replace("ld-linux-x86-64.so.2",
                                                                                  "ld-linux-aarch64.so.1"),
              l.package, l.version, "debian-12-arm64") for l in WEB.libs]


def multi_arch():
    sc = Scenario("benign-multi-arch-image",
                  "registry.example.com/shop/web:5.12.0 is a multi-arch image: an OCI index digest with "
                  "linux/amd64 and linux/arm64 manifests. Admission attested the INDEX digest; amd64 nodes and "
                  "Graviton (arm64) nodes run their per-arch manifests (image_digest on the nodes is the "
                  "per-arch manifest, arm64 nodes load aarch64 libraries), so claw-runtime reports "
                  "manifest_digest_mismatch with expected = index and observed = the per-arch manifest. The "
                  "attestations in sboms/ are one in-toto statement per platform whose subjects are the index "
                  "AND that platform's manifest (CycloneDX predicate listing that platform's files), which "
                  "proves each per-arch manifest belongs to the index: same image, no alert, and every library "
                  "is listed for its own architecture. Mixed: from 12:44 prod-arm-02 runs a manifest that is "
                  "NOT in the index (the true attack): one high-severity mismatch alert. Raw JSON lines.")
    f = "fleet.jsonl"
    amd, arm = ["prod-fe-01", "prod-fe-02"], ["prod-arm-01", "prod-arm-02"]
    sc.heartbeats(f, amd + arm)
    index = WEB.digest
    per_arch = {"amd64": digest("manifest|shop/web:5.12.0|linux/amd64"),
                "arm64": digest("manifest|shop/web:5.12.0|linux/arm64")}
    wls = []
    for node in amd + arm:
        arch = "arm64" if "arm" in node else "amd64"
        wl = pods(sc, WEB, "shop-prod", [node], "shop-web")[0].moved(
            sc.sim, image_digest=per_arch[arch], libs=AARCH64 if arch == "arm64" else WEB.libs)
        wls.append(wl)
        sc.sim.image_attestation(f, sc.t0 - 2 * HOUR + sc.sim.jitter(MIN), wl, subject_digest=index)
    sc.steady(f, wls, per_hour=3, first_image=False)
    for wl in wls:
        t = sc.t0 - HOUR + 3 * MIN + sc.sim.jitter(MIN)
        while t < sc.t1:
            sc.sim.mismatch(f, t, wl, index, wl.image_digest,
                            "running manifest digest differs from the attested digest")
            t += 15 * MIN
    rogue = digest("manifest|shop/web:5.12.0|linux/arm64|tampered")
    wl = wls[3]
    t = sc.t0 + 44 * MIN
    while t < sc.t1:
        sc.sim.mismatch(f, t, wl, index, rogue, "running manifest digest differs from the attested digest")
        t += 5 * MIN
    repo = WEB.ref.split(":")[0]
    for arch, libs in (("amd64", WEB.libs), ("arm64", AARCH64)):
        statement = {"_type": "https://in-toto.io/Statement/v1",
                     "subject": [{"name": repo, "digest": {"sha256": index[7:]}},
                                 {"name": "%s@linux/%s" % (repo, arch), "digest": {"sha256": per_arch[arch][7:]}}],
                     "predicateType": "https://cyclonedx.org/bom",
                     "predicate": json.loads(cyclonedx_json(WEB.ref, per_arch[arch], libs))}
        sc.sboms["shop-web-5.12.0-linux-%s.intoto.json" % arch] = json.dumps(statement, indent=1) + "\n"
    sc.expect("claw_manifest_digest_mismatch", severity="high", host=wl.node, namespace="shop-prod",
              image_ref=WEB.ref, expected_digest=index, observed_digest=rogue)
    return sc
