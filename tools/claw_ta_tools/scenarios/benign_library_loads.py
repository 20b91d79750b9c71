"""Benign scenarios of the families that cause false positives in practice (no alert, or only the
true attack of a mixed scenario)."""
from claw_ta_tools.scenarios.fleet import DEBIAN12, ENVOY, HOUR, JAMMY, MIN, NS, REG, TEMURIN17, Image, Lib, Scenario
from claw_ta_tools.scenarios.simulation import Workload, digest, libset
from claw_ta_tools.scenarios.sboms import cyclonedx_json, cyclonedx_xml, spdx_json
from claw_ta_tools.scenarios.attacks_loads_and_images import LEDGER, PAYMENTS, PROXY, WEB, pods

IPTABLES = libset("istio-proxyv2-1.23.2", [
    ("/usr/lib/x86_64-linux-gnu/libxtables.so.12.4.0", "libxtables12", "1.8.7-1ubuntu5.2"),
    ("/usr/lib/x86_64-linux-gnu/libnftnl.so.11.6.0", "libnftnl11", "1.2.1-1build3"),
    ("/usr/lib/x86_64-linux-gnu/libmnl.so.0.2.0", "libmnl0", "1.0.4-3build2"),
    ("/usr/lib/x86_64-linux-gnu/libip4tc.so.2.0.0", "libip4tc2", "1.8.7-1ubuntu5.2"),
    ("/usr/lib/x86_64-linux-gnu/libip6tc.so.2.0.0", "libip6tc2", "1.8.7-1ubuntu5.2"),
]) + ENVOY[:2]
ALLOW_HEADER = ["detection_id", "subject_digest", "library_path", "namespace", "image_ref", "expires", "reason"]


def sidecar():
    sc = Scenario("benign-service-mesh-sidecar",
                  "Istio ambient-less mesh: every pod in shop-prod and payments-prod has an istio-proxy "
                  "(envoy) sidecar and an istio-init container (iptables). The proxyv2 image's SBOM is SPDX "
                  "2.3 JSON (Syft style, ./-relative fileName). claw-runtime hashing is OFF on this cluster, "
                  "so matching is by normalized path, and the loader reports paths through the container's "
                  "overlay (/run/containerd/.../rootfs/..., .../snapshots/N/fs/...) and merged-/usr forms "
                  "(/lib/x86_64-linux-gnu/...). All of them are the SBOM's files: no alert. Envoy restarts on "
                  "every config push (hot restart) give many process starts. HEC, Merge_Log On, Keep_Log Off.")
    nodes = ["prod-app-01", "prod-app-02", "prod-app-03", "prod-fe-01"]
    f = "mesh.merge.hec.jsonl"
    sc.heartbeats(f, nodes)
    apps = (pods(sc, PAYMENTS, "payments-prod", nodes[:3], "payments-api") +
            pods(sc, WEB, "shop-prod", nodes[3:], "shop-web", hashing=False))
    sc.steady(f, apps, per_hour=3)
    prefixes = ["/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/rootfs",
                "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/%d/fs", "", ""]
    for i, app in enumerate(apps):
        prefix = prefixes[i % len(prefixes)]
        if "%s" in prefix:
            prefix = prefix % digest("task-%d" % i)[7:]
        elif "%d" in prefix:
            prefix = prefix % (4312 + i)
        libs = ENVOY
        if i == 2:  # the loader resolved through /lib (merged /usr)
            libs = [Lib(l.path.replace("/usr/lib/", "/lib/"), l.package, l.version, "x") for l in ENVOY]
        common = dict(image_ref=PROXY.ref, image_digest=PROXY.digest, namespace=app.namespace, pod=app.pod,
                      labels=app.labels, hashing=False, path_prefix=prefix, policy="mesh-components", slsa=3)
        init = Workload(sc.sim, "istio-init", app.node, "/usr/sbin/xtables-nft-multi", IPTABLES, **common)
        envoy = Workload(sc.sim, "istio-proxy", app.node, "/usr/local/bin/envoy", libs, **common)
        pilot = Workload(sc.sim, "istio-proxy", app.node, "/usr/local/bin/pilot-agent", [], **common)
        t = sc.t0 - HOUR + sc.sim.jitter(5 * MIN)
        sc.sim.process_start(f, t, init, image=True)
        sc.sim.process_start(f, t + 2 * NS, pilot, image=True)
        t += 3 * NS
        while t < sc.t1:   # envoy hot restarts on config pushes
            sc.sim.process_start(f, t, envoy)
            t += 20 * MIN + sc.sim.jitter(20 * MIN)
    sc.sboms["istio-proxyv2-1.23.2.spdx.json"] = spdx_json(PROXY.ref, PROXY.digest, ENVOY + IPTABLES)
    sc.sboms["payments-api-1.4.0.cdx.json"] = cyclonedx_json(PAYMENTS.ref, PAYMENTS.digest, PAYMENTS.libs)
    sc.sboms["shop-web-5.12.0.cdx.json"] = cyclonedx_json(WEB.ref, WEB.digest, WEB.libs, spec="1.4")
    return sc


def apm_preload():
    sc = Scenario("benign-apm-ld-preload",
                  "APM agents injected into every process through /etc/ld.so.preload: Datadog single-step "
                  "instrumentation (launcher.preload.so, then its Python tracer's native modules) on the "
                  "prod-app nodes, Dynatrace OneAgent (liboneagentproc.so) on prod-be nodes and on a "
                  "bare-metal host (journal). No application SBOM lists them, so without tuning each would be "
                  "claw_unlisted_library_load. The tuning (lookups/claw_allowlist.csv) is one row per vendor "
                  "install path, for every detection (`*`), any subject/namespace/image, with an expiry and "
                  "a change reference: no alert. HEC Merge_Log Off for the nodes, Fluent Bit systemd records "
                  "for the bare-metal host.")
    sc.lookup("claw_allowlist.csv", ALLOW_HEADER,
              [["*", "", "/opt/datadog-packages/*", "", "", "2027-12-31",
                "Datadog single-step APM instrumentation via ld.so.preload (CHG-5120)"],
               ["*", "", "/opt/dynatrace/oneagent/*/liboneagentproc.so", "", "", "2027-12-31",
                "Dynatrace OneAgent via ld.so.preload (CHG-4411)"]])
    dd = [Lib("/opt/datadog-packages/datadog-apm-inject/0.26.0/inject/launcher.preload.so", "-", "-", "dd"),
          Lib("/opt/datadog-packages/datadog-apm-library-python/2.14.2/ddtrace_pkgs/site-packages-ddtrace-"
              "py3.11-manylinux2014/ddtrace/internal/_encoding.cpython-311-x86_64-linux-gnu.so", "-", "-", "dd"),
          Lib("/opt/datadog-packages/datadog-apm-library-python/2.14.2/ddtrace_pkgs/site-packages-ddtrace-"
              "py3.11-manylinux2014/ddtrace/profiling/collector/_memalloc.cpython-311-x86_64-linux-gnu.so",
              "-", "-", "dd")]
    dyn = [Lib("/opt/dynatrace/oneagent/agent/bin/1.301.61.20241115-145326/linux-x86-64/liboneagentproc.so",
               "-", "-", "dt")]
    app_nodes, be_nodes = ["prod-app-01", "prod-app-02"], ["prod-be-01", "prod-be-02"]
    f, fj = "nodes.hec.jsonl", "bm-batch.journal.jsonl"
    sc.heartbeats(f, app_nodes + be_nodes)
    sc.heartbeats(fj, ["bm-batch-01"])
    for wl in pods(sc, PAYMENTS, "payments-prod", app_nodes, "payments-api"):
        t = sc.t0 - HOUR + sc.sim.jitter(10 * MIN)
        while t < sc.t1:
            sc.sim.process_start(f, t, wl, libs=dd[:1] + PAYMENTS.libs + dd[1:], image=t < sc.t0 - 50 * MIN)
            t += 15 * MIN + sc.sim.jitter(10 * MIN)
    for wl in pods(sc, LEDGER, "payments-prod", be_nodes, "ledger"):
        t = sc.t0 - HOUR + sc.sim.jitter(10 * MIN)
        while t < sc.t1:
            sc.sim.process_start(f, t, wl, libs=dyn + LEDGER.libs)
            t += 25 * MIN + sc.sim.jitter(10 * MIN)
    cron = Workload(sc.sim, "settlement", "bm-batch-01", "/opt/settlement/bin/settle", DEBIAN12[:9],
                    policy="host-baseline")
    t = sc.t0 - 2 * HOUR
    while t < sc.t1:
        sc.sim.process_start(fj, t + sc.sim.jitter(MIN), cron, libs=dyn + DEBIAN12[:9])
        t += 15 * MIN
    sc.sboms["payments-api-1.4.0.cdx.json"] = cyclonedx_json(PAYMENTS.ref, PAYMENTS.digest, PAYMENTS.libs)
    sc.sboms["ledger-3.2.1.cdx.xml"] = cyclonedx_xml(
        LEDGER.ref, LEDGER.digest, LEDGER.libs, distro="ubuntu-22.04", spec="1.6")
    sc.sboms["settle.cdx.json"] = cyclonedx_json("/opt/settlement/bin/settle", cron.binary_digest,
                                                 DEBIAN12[:9], kind="application")
    return sc


def jni_tmp():
    sc = Scenario("benign-jni-libs-extracted-to-tmp",
                  "Java consumers (Kafka client) in data-prod extract their JNI libraries to java.io.tmpdir at "
                  "every JVM start, under random names: snappy-java (/tmp/snappy-1.1.10-<uuid>-libsnappyjava.so), "
                  "netty epoll, lz4-java and zstd-jni. Handling chosen with the detections' semantics: "
                  "claw_library_from_writable_path has a built-in exception for the file names of the "
                  "well-known JNI loaders when the loading process is java (no tuning needed); "
                  "claw_unlisted_library_load still sees them (the image SBOM lists the jars, not what they "
                  "unpack), so the site adds allowlist rows for that detection only, one per JNI naming "
                  "pattern, scoped to the data team's images (image_ref registry.example.com/data/*) with an "
                  "expiry. The same consumer in dev-frank needs no row (nonprod: risk only, one detection). "
                  "Mixed: at 12:47 a library dropped as /tmp/.ICE-unix/libsnappyjava.so (a JNI-looking name "
                  "outside both the built-in pattern and the rows) is the true attack: writable-path and "
                  "unlisted alerts, and with --risk a claw_workload_risk incident on that pod. "
                  "Raw JSON lines plus CRI lines for the dev node.")
    sc.lookup("claw_allowlist.csv", ALLOW_HEADER,
              [["claw_unlisted_library_load", "", pat, "", REG + "/data/*", "2027-06-30",
                "JNI library extracted by %s (DATA-881)" % who]
               for pat, who in (("/tmp/snappy-*-libsnappyjava.so", "snappy-java"),
                                ("/tmp/libnetty_transport_native_epoll_x86_64*.so", "netty"),
                                ("/tmp/liblz4-java-*.so", "lz4-java"),
                                ("/tmp/libzstd-jni-*.so", "zstd-jni"))])
    consumer = Image(REG + "/data/ingest-consumer", "8.3.0", LEDGER.binary, JAMMY + TEMURIN17)
    nodes, dev_nodes = ["prod-data-01", "prod-data-02"], ["dev-03"]
    f, fd = "data.jsonl", "claw-runtime-dev.cri.log"
    sc.heartbeats(f, nodes)
    sc.heartbeats(fd, dev_nodes)
    prod = pods(sc, consumer, "data-prod", nodes + nodes, "ingest-consumer")
    dev = pods(sc, consumer, "dev-frank", dev_nodes, "ingest-consumer", slsa=3, policy="dev-permissive")

    def jni(rng):
        r = lambda: "".join(rng.choice("0123456789") for _ in range(19))
        return [Lib("/tmp/snappy-1.1.10-%s-libsnappyjava.so" % sc.sim.uuid(), "-", "-", "snappy-1.1.10.5"),
                Lib("/tmp/libnetty_transport_native_epoll_x86_64%s.so" % r(), "-", "-", "netty-4.1.114"),
                Lib("/tmp/liblz4-java-%s.so" % r(), "-", "-", "lz4-java-1.8.0"),
                Lib("/tmp/libzstd-jni-1.5.6-4%s.so" % r(), "-", "-", "zstd-jni-1.5.6-4")]

    for wl, fname in [(w, f) for w in prod] + [(w, fd) for w in dev]:
        t = sc.t0 - HOUR + sc.sim.jitter(15 * MIN)
        while t < sc.t1:   # consumers are restarted by a rebalance/OOM now and then
            libs = jni(sc.sim.rng)
            for lib in libs:   # each extraction gets its own content digest label per version, not name
                lib.digest = digest("jni|" + lib.package)
            sc.sim.process_start(fname, t, wl, libs=consumer.libs + libs, image=True)
            t += 25 * MIN + sc.sim.jitter(20 * MIN)
    evil = Lib("/tmp/.ICE-unix/libsnappyjava.so", "-", "-", "attacker")
    sc.sim.library_load(f, sc.t0 + 47 * MIN, prod[1], evil, 31337)
    sc.sboms["ingest-consumer-8.3.0.cdx.json"] = cyclonedx_json(
        consumer.ref, consumer.digest, consumer.libs, distro="ubuntu-22.04",
        extra_components=[{"bom-ref": "pkg:maven/%s@%s" % (g, v), "type": "library", "group": g.split("/")[0],
                           "name": g.split("/")[1], "version": v, "purl": "pkg:maven/%s@%s" % (g, v),
                           "components": [{"type": "file", "name": "/app/lib/%s-%s.jar" % (g.split("/")[1], v),
                                           "hashes": [{"alg": "SHA-256", "content": digest(g + v)[7:]}]}]}
                          for g, v in (("org.xerial.snappy/snappy-java", "1.1.10.5"),
                                       ("io.netty/netty-transport-native-epoll", "4.1.114.Final"),
                                       ("org.lz4/lz4-java", "1.8.0"), ("com.github.luben/zstd-jni", "1.5.6-4"),
                                       ("org.apache.kafka/kafka-clients", "3.8.1"))])
    sc.expect("claw_library_from_writable_path", subject_digest=prod[1].binary_digest, library_path=evil.path,
              host=prod[1].node)
    sc.expect("claw_unlisted_library_load", subject_digest=prod[1].binary_digest, library_path=evil.path,
              host=prod[1].node, namespace="data-prod")
    sc.expect("claw_workload_risk", risk_object=prod[1].pod,
              detections=["claw_library_from_writable_path", "claw_unlisted_library_load"])
    return sc
