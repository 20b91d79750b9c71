"""Attack scenarios: each one must raise exactly the alerts in its expected.jsonl."""
from claw_ta_tools.scenarios.fleet import DEBIAN12, ENVOY, JAMMY, MIN, NGINX, NS, PYTHON311, REG, TEMURIN17, Image, Lib, Scenario
from claw_ta_tools.scenarios.simulation import Workload, digest, hexdigest
from claw_ta_tools.scenarios.sboms import cyclonedx_json, cyclonedx_xml

PAYMENTS = Image(REG + "/payments/api", "1.4.0", "/usr/local/bin/gunicorn", DEBIAN12 + PYTHON311)
LEDGER = Image(REG + "/payments/ledger", "3.2.1", "/opt/java/openjdk/bin/java", JAMMY + TEMURIN17)
WEB = Image(REG + "/shop/web", "5.12.0", "/usr/sbin/nginx", DEBIAN12[:10] + NGINX)
PROXY = Image("docker.io/istio/proxyv2", "1.23.2", "/usr/local/bin/envoy", ENVOY)
CART = Image(REG + "/shop/cart", "2.3.1", "/usr/local/bin/gunicorn", DEBIAN12 + PYTHON311)


def pods(sc, image, namespace, nodes, app, tier=None, slsa=3, **kw):
    return [Workload(sc.sim, app, node, image.binary, image.libs, image_ref=image.ref,
                     image_digest=image.digest, namespace=namespace,
                     pod="%s-7d9f8b6c5-%s" % (app, sc.sim.uuid()[:5]), slsa=slsa, tier=tier,
                     labels={"app": app}, **kw) for node in nodes]


def unlisted_preload():
    sc = Scenario("attack-unlisted-library-preload-rootkit",
                  "payments-api (Python/gunicorn) runs 3 replicas in payments-prod (prod); its image SBOM "
                  "(CycloneDX 1.5 JSON, Syft-style, files nested under packages) lists every library it loads. "
                  "At 12:23 an attacker with a shell in one pod restarts the gunicorn workers with "
                  "LD_PRELOAD=/usr/local/lib/libprocesshider.so (a public process-hiding rootkit) on "
                  "prod-app-02. The path is not writable-path material (/usr/local/lib inside the image "
                  "layer), so only claw_unlisted_library_load must fire, once for the (binary, library, "
                  "host, namespace) entity however many workers load it. Delivery: Fluent Bit to HEC, "
                  "Merge_Log Off (claw JSON in `log`, kubernetes object beside it).")
    nodes = ["prod-app-01", "prod-app-02", "prod-app-03"]
    wls = pods(sc, PAYMENTS, "payments-prod", nodes, "payments-api", tier="backend")
    f = "prod-app.hec.jsonl"
    sc.heartbeats(f, nodes)
    sc.steady(f, wls, per_hour=2)
    rootkit = Lib("/usr/local/lib/libprocesshider.so", "-", "-", "attacker")
    t = sc.t0 + 23 * MIN
    for i in range(3):
        sc.sim.process_start(f, t + i * 40 * NS, wls[1], extra_libs=[rootkit])
    sc.sboms["payments-api-1.4.0.cdx.json"] = cyclonedx_json(PAYMENTS.ref, PAYMENTS.digest, PAYMENTS.libs)
    sc.expect("claw_unlisted_library_load", subject_digest=wls[1].binary_digest, library_path=rootkit.path,
              host="prod-app-02", namespace="payments-prod")
    return sc


def swapped_libssl():
    sc = Scenario("attack-unlisted-library-swapped-libssl",
                  "The shop web frontend (nginx) in shop-prod; its SBOM is CycloneDX 1.4 XML (cdxgen style) "
                  "with SHA-256 hashes for every file. On prod-fe-02 the nginx master is restarted at 12:41 "
                  "and maps /usr/lib/x86_64-linux-gnu/libssl.so.3 whose content digest differs from the "
                  "SBOM's: same path, trojanised content (a swapped library). The path matches, the digest "
                  "does not, so claw_unlisted_library_load must fire for it (and only for it). Raw JSON lines.")
    nodes = ["prod-fe-01", "prod-fe-02", "prod-fe-03"]
    wls = pods(sc, WEB, "shop-prod", nodes, "shop-web", tier="frontend")
    f = "frontend.jsonl"
    sc.heartbeats(f, nodes)
    sc.steady(f, wls, per_hour=3)
    evil = Lib("/usr/lib/x86_64-linux-gnu/libssl.so.3", "libssl3", "3.0.15-1~deb12u1+evil", "attacker")
    libs = [evil if lib.path == evil.path else lib for lib in WEB.libs]
    sc.sim.process_start(f, sc.t0 + 41 * MIN, wls[1], libs=libs)
    sc.sboms["shop-web-5.12.0.cdx.xml"] = cyclonedx_xml(WEB.ref, WEB.digest, WEB.libs)
    sc.expect("claw_unlisted_library_load", subject_digest=wls[1].binary_digest, library_path=evil.path,
              host="prod-fe-02", namespace="shop-prod")
    return sc


def tier_spike():
    sc = Scenario("attack-tier-spike-lateral-movement",
                  "Three tiers from claw_host_tiers.csv (site data: lookups/ override): frontend prod-fe-*, "
                  "backend prod-be-*, data prod-data-*. 36 h of attestation history train the baseline: "
                  "shop-web on frontend, ledger on backend, the istio proxyv2 sidecar image on every tier "
                  "(a digest that legitimately runs in several tiers). From 12:15 to 12:35 the ledger image "
                  "(backend, holds the database credentials) is attested 120 times on frontend node prod-fe-02: "
                  "pods created with a stolen service-account token, lateral movement. One single ledger "
                  "attestation on prod-fe-01 (an engineer's one-off job) stays below threshold. Expected: one "
                  "claw_attestation_spike_outside_tier for (ledger digest, prod-fe-02, tier frontend, the "
                  "host's tier). History is raw JSON lines, the detection window is CRI container log lines.")
    fe, be, data = (["prod-fe-0%d" % i for i in (1, 2, 3)], ["prod-be-0%d" % i for i in (1, 2, 3)],
                    ["prod-data-0%d" % i for i in (1, 2)])
    sc.lookup("claw_host_tiers.csv", ["host", "tier"],
              [[h, "frontend"] for h in fe] + [[h, "backend"] for h in be] + [[h, "data"] for h in data])
    web = pods(sc, WEB, "shop-prod", fe, "shop-web")
    ledger = pods(sc, LEDGER, "payments-prod", be, "ledger")
    proxies = pods(sc, PROXY, "shop-prod", fe + be + data, "istio-proxy")
    hist, win = "history.jsonl", "claw-runtime-window.cri.log"
    sc.attestation_history(hist, web + ledger + proxies, hours=36, per_hour=2)
    sc.heartbeats(hist, fe + be + data, end=sc.t0)
    sc.heartbeats(win, fe + be + data, start=sc.t0)
    sc.steady(win, web + ledger, per_hour=2, start=sc.t0)
    sc.steady(win, proxies, per_hour=1, start=sc.t0, first_image=False)
    one_off = ledger[0].moved(sc.sim, node="prod-fe-01", pod="ledger-debug-job-x8k2q")
    sc.sim.process_start(win, sc.t0 + 7 * MIN, one_off, libs=[], image=True)
    for i in range(60):
        wl = ledger[0].moved(sc.sim, node="prod-fe-02", pod="ledger-7d9f8b6c5-z%03d" % i)
        sc.sim.process_start(win, sc.t0 + 15 * MIN + i * 20 * NS, wl, libs=[], image=True)
    sc.expect("claw_attestation_spike_outside_tier", image_digest=LEDGER.digest, host="prod-fe-02",
              tier="frontend")
    return sc


def tier_spike_node_labels():
    sc = Scenario("attack-tier-spike-node-labels",
                  "Out of the box on Kubernetes: no claw_host_tiers.csv, no trusted namespace. The node pools "
                  "label their nodes tier=frontend (prod-fe-*) and tier=backend (prod-be-*), and each node's "
                  "claw-runtime sensor reports those labels in its heartbeats (k8s_node_labels): the node_labels "
                  "tier source. 24 h of history train shop-web on frontend and ledger on backend. At 12:10 the "
                  "shop-web HorizontalPodAutoscaler scales out, also onto prod-fe-04, a node of the frontend pool "
                  "that joined this morning and has no history: in its tier, no alert. From 12:20 the ledger "
                  "image is attested 120 times (60 pods) on frontend node prod-fe-02 (lateral movement); the "
                  "attacker labels those pods tier=backend (k8s_labels: workload-written, namespace not trusted, ignored) and one "
                  "of them prints heartbeats claiming prod-fe-02 is a backend node (written by "
                  "payments-prod/ledger-*, not the sensor: dropped by the sensor filter, counted as not_sensor). "
                  "Expected: one claw_attestation_spike_outside_tier for (ledger digest, prod-fe-02, tier "
                  "frontend). Raw JSON lines; the forged heartbeats arrive in the attacker pod's CRI log file.")
    fe, be = ["prod-fe-0%d" % i for i in (1, 2, 3)], ["prod-be-0%d" % i for i in (1, 2, 3)]
    for node in fe + ["prod-fe-04"]:
        sc.node_pools[node] = {"tier": "frontend", "cloud.google.com/gke-nodepool": "frontend-pool"}
    for node in be:
        sc.node_pools[node] = {"tier": "backend", "cloud.google.com/gke-nodepool": "backend-pool"}
    web = pods(sc, WEB, "shop-prod", fe, "shop-web", tier="frontend")
    ledger = pods(sc, LEDGER, "payments-prod", be, "ledger", tier="backend")
    hist, win = "history.jsonl", "window.jsonl"
    sc.attestation_history(hist, web + ledger, hours=24, per_hour=2)
    sc.heartbeats(hist, fe + be, end=sc.t0)
    sc.heartbeats(win, fe + be + ["prod-fe-04"], start=sc.t0)
    sc.steady(win, web + ledger, per_hour=2, start=sc.t0)
    hosts = fe + ["prod-fe-04"]
    for i in range(8):  # HPA scale-out, two new pods on the new node of the same pool (their
        # library loads left out: the tier detection counts attestations)
        wl = web[0].moved(sc.sim, node=hosts[i % len(hosts)], pod="shop-web-7d9f8b6c5-h%02d" % i, libs=[])
        sc.steady(win, [wl], per_hour=6, start=sc.t0 + 10 * MIN + i * 30 * NS)
    for i in range(60):
        wl = ledger[0].moved(sc.sim, node="prod-fe-02", pod="ledger-7d9f8b6c5-z%03d" % i)
        sc.sim.process_start(win, sc.t0 + 20 * MIN + i * 15 * NS, wl, libs=[], image=True)
    # the attacker's pod prints sensor-shaped heartbeats; a pipeline that collects every
    # container's log delivers them in that pod's CRI file (the file name names the writer)
    forged = "ledger-7d9f8b6c5-z000_payments-prod_ledger-%s.cri.log" % hexdigest("forger container")
    sc.sim.heartbeats(forged, "prod-fe-02", sc.t0 + 20 * MIN, sc.t1,
                      node_labels=dict(sc.node_labels("prod-fe-02"), tier="backend"))
    sc.expect("claw_attestation_spike_outside_tier", image_digest=LEDGER.digest, host="prod-fe-02",
              tier="frontend")
    return sc


def nonprod_image():
    sc = Scenario("attack-nonprod-image-in-prod",
                  "Tuning: this site's CI pushes every pull-request build to registry.example.com/feature-builds/ "
                  "(a name the shipped claw_image_env.csv cannot know), so lookups/claw_image_env.csv adds that "
                  "repository as nonprod on top of the shipped patterns. At 12:31 the PR image "
                  "registry.example.com/feature-builds/payments-api:pr-2291-fast-refunds is started in "
                  "payments-prod (kubectl set image during an incident) and passes attestation (SLSA 3, same "
                  "CI). It must raise claw_nonprod_image_in_prod (severity medium) once for the (digest, ref, "
                  "namespace, host); the release image on the other nodes must not. Delivery: Fluent Bit to "
                  "HEC with Merge_Log On and Keep_Log Off (claw fields at top level, no `log`).")
    sc.lookup("claw_image_env.csv", ["image_ref", "environment"],
              [[REG + "/feature-builds/*", "nonprod"], ["*/dev/*", "nonprod"], ["*/staging/*", "nonprod"],
               ["*:*-SNAPSHOT", "nonprod"], ["*:*-snapshot", "nonprod"], ["*/prod/*", "prod"]])
    nodes = ["prod-app-01", "prod-app-02", "prod-app-03"]
    wls = pods(sc, PAYMENTS, "payments-prod", nodes, "payments-api")
    f = "prod-app.merge.hec.jsonl"
    sc.heartbeats(f, nodes)
    sc.steady(f, wls, per_hour=2)
    dev = Image(REG + "/feature-builds/payments-api", "pr-2291-fast-refunds", PAYMENTS.binary, PAYMENTS.libs)
    rogue = wls[2].moved(sc.sim, pod="payments-api-5c6d7e8f9-qq7rt", image_ref=dev.ref, image_digest=dev.digest)
    sc.steady(f, [rogue], per_hour=3, start=sc.t0 + 31 * MIN)
    sc.sboms["payments-api-1.4.0.cdx.json"] = cyclonedx_json(PAYMENTS.ref, PAYMENTS.digest, PAYMENTS.libs)
    sc.sboms["payments-api-pr-2291.cdx.json"] = cyclonedx_json(dev.ref, dev.digest, dev.libs)
    sc.expect("claw_nonprod_image_in_prod", severity="medium", image_digest=dev.digest, image_ref=dev.ref,
              namespace="payments-prod", host="prod-app-03")
    return sc


def manifest_mismatch():
    sc = Scenario("attack-manifest-digest-mismatch",
                  "Two running containers whose image manifest digest no longer matches the digest attested "
                  "at deployment (the tag was re-pushed and the pod re-pulled with imagePullPolicy Always, or "
                  "the node's image store was tampered with): cart in shop-prod on prod-app-01 from 12:18, and "
                  "a tools image in the developer namespace dev-carol on dev-01 from 12:40. claw-runtime repeats "
                  "the mismatch event every 5 minutes; one high-severity alert per (host, namespace, image_ref, "
                  "expected, observed) must fire in EVERY environment, dev included. Delivery: CRI container "
                  "log lines of the claw-runtime pods (kubelet file naming), events carry k8s_namespace.")
    f1 = "claw-runtime-4kq9z_claw-system_claw-runtime-%s.cri.log" % digest("cri-1")[7:]
    f2 = "claw-runtime-m2x7w_claw-system_claw-runtime-%s.cri.log" % digest("cri-2")[7:]
    cart = pods(sc, CART, "shop-prod", ["prod-app-01"], "cart")[0]
    tools = Image(REG + "/platform/toolbox", "2026.11", "/usr/bin/python3.11", DEBIAN12 + PYTHON311)
    tool = pods(sc, tools, "dev-carol", ["dev-01"], "toolbox", slsa=2, policy="dev-permissive")[0]
    sc.heartbeats(f1, ["prod-app-01"])
    sc.heartbeats(f2, ["dev-01"])
    sc.steady(f1, [cart], per_hour=4)
    sc.steady(f2, [tool], per_hour=2)
    for wl, fname, start, label in ((cart, f1, 18, "cart-repushed"), (tool, f2, 40, "toolbox-tampered")):
        observed = digest("image|" + label)
        t = sc.t0 + start * MIN
        while t < sc.t1:
            sc.sim.mismatch(fname, t + sc.sim.jitter(NS), wl, wl.image_digest, observed,
                            "running image manifest digest differs from the digest attested at admission")
            t += 5 * MIN
        sc.expect("claw_manifest_digest_mismatch", severity="high", host=wl.node, namespace=wl.namespace,
                  image_ref=wl.image_ref, expected_digest=wl.image_digest, observed_digest=observed)
    return sc


def writable_fileless():
    sc = Scenario("attack-library-from-writable-path-fileless",
                  "The ledger service (Java 17) in payments-prod is exploited through a deserialisation bug at "
                  "12:52: the payload writes /dev/shm/.x/libnss_hax.so and loads it, then loads a second stage "
                  "from an anonymous memfd (`/memfd:kworker (deleted)`). Hashing is on, so both loads carry "
                  "library_digest, and neither digest is in the ledger image's CycloneDX SBOM: each library "
                  "raises claw_library_from_writable_path AND claw_unlisted_library_load (memfd paths match "
                  "only by digest); with --risk, the pod collects both: a claw_workload_risk incident. "
                  "Delivery: HEC, Merge_Log On with Keep_Log On (fields and `log`).")
    nodes = ["prod-be-01", "prod-be-02"]
    wls = pods(sc, LEDGER, "payments-prod", nodes, "ledger")
    f = "backend.merge.keeplog.hec.jsonl"
    sc.heartbeats(f, nodes)
    sc.steady(f, wls, per_hour=2)
    shm = Lib("/dev/shm/.x/libnss_hax.so", "-", "-", "attacker")
    memfd = Lib("/memfd:kworker (deleted)", "-", "-", "attacker-stage2")
    pid = 4711
    t = sc.t0 + 52 * MIN
    sc.sim.library_load(f, t, wls[0], shm, pid)
    sc.sim.library_load(f, t + 3 * NS, wls[0], memfd, pid)
    sc.sboms["ledger-3.2.1.cdx.json"] = cyclonedx_json(LEDGER.ref, LEDGER.digest, LEDGER.libs,
                                                       distro="ubuntu-22.04", spec="1.6")
    for lib in (shm, memfd):
        sc.expect("claw_library_from_writable_path", subject_digest=wls[0].binary_digest,
                  library_path=lib.path, host="prod-be-01")
        sc.expect("claw_unlisted_library_load", subject_digest=wls[0].binary_digest, library_path=lib.path,
                  host="prod-be-01", namespace="payments-prod")
    sc.expect("claw_workload_risk", risk_object=wls[0].pod,
              detections=["claw_library_from_writable_path", "claw_unlisted_library_load"])
    return sc
