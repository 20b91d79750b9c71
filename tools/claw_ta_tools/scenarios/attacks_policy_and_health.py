"""Attack scenarios, continued: SLSA, sensor health, tag swaps, allowlist expiry."""
from claw_ta_tools.scenarios.fleet import DEBIAN12, MIN, PYTHON311, REG, Image, Lib, Scenario
from claw_ta_tools.scenarios.simulation import Workload, digest, dumps, libset
from claw_ta_tools.scenarios.sboms import cyclonedx_json, intoto_link, spdx_json
from claw_ta_tools.scenarios.attacks_loads_and_images import CART, PAYMENTS, pods

POSTGRES = libset("postgresql-16-rhel9", [
    ("/usr/lib64/ld-linux-x86-64.so.2", "glibc", "2.34-100.el9_4.4"),
    ("/usr/lib64/libc.so.6", "glibc", "2.34-100.el9_4.4"),
    ("/usr/lib64/libm.so.6", "glibc", "2.34-100.el9_4.4"),
    ("/usr/lib64/libssl.so.3.0.7", "openssl-libs", "3.0.7-28.el9_4"),
    ("/usr/lib64/libcrypto.so.3.0.7", "openssl-libs", "3.0.7-28.el9_4"),
    ("/usr/lib64/libz.so.1.2.11", "zlib", "1.2.11-40.el9"),
    ("/usr/lib64/libxml2.so.2.9.13", "libxml2", "2.9.13-6.el9_4"),
    ("/usr/lib64/libicuuc.so.67.1", "libicu", "67.1-9.el9"),
    ("/usr/lib64/libicui18n.so.67.1", "libicu", "67.1-9.el9"),
    ("/usr/lib64/libicudata.so.67.1", "libicu", "67.1-9.el9"),
    ("/usr/lib64/libsystemd.so.0.35.0", "systemd-libs", "252-32.el9_4"),
    ("/usr/lib64/liblz4.so.1.9.3", "lz4-libs", "1.9.3-5.el9"),
    ("/usr/lib64/libzstd.so.1.5.1", "libzstd", "1.5.1-2.el9"),
    ("/usr/lib64/libgssapi_krb5.so.2.2", "krb5-libs", "1.21.1-2.el9_4"),
    ("/usr/lib64/libldap.so.2.0.200", "openldap", "2.6.6-3.el9"),
    ("/usr/lib64/libpam.so.0.85.1", "pam", "1.5.1-19.el9"),
    ("/usr/pgsql-16/lib/llvmjit.so", "postgresql16-llvmjit", "16.4-1PGDG.rhel9"),
    ("/usr/pgsql-16/lib/pg_stat_statements.so", "postgresql16-contrib", "16.4-1PGDG.rhel9"),
    ("/usr/pgsql-16/lib/auto_explain.so", "postgresql16-contrib", "16.4-1PGDG.rhel9"),
    ("/usr/pgsql-16/lib/libpqwalreceiver.so", "postgresql16-server", "16.4-1PGDG.rhel9"),
])


def low_slsa():
    sc = Scenario("attack-low-slsa-in-prod",
                  "Tuning: this site lists its production namespaces explicitly (`batch` and *-prod) and treats "
                  "every other namespace as nonprod, the reverse of the shipped default (anything not "
                  "dev/test/staging-like is prod): lookups/claw_namespace_env.csv. At 12:08 a hand-built image "
                  "pushed from a laptop (no provenance: slsa_level 0) is admitted in `batch` because its policy "
                  "runs in audit mode (verdict Allowed) and runs on prod-batch-01. The image attestation and "
                  "the binary attestation are both Allowed attestations below the SLSA threshold (2), so "
                  "claw_low_slsa_in_prod fires for each subject digest (image and binary). The same kind of "
                  "image in `tools` (internal tooling, nonprod at this site, prod by the shipped default) and in "
                  "dev-erin must not alert. HEC, Merge_Log Off.")
    sc.lookup("claw_namespace_env.csv", ["namespace", "environment"],
              [["batch", "prod"], ["*-prod", "prod"], ["*", "nonprod"]])
    f = "batch.hec.jsonl"
    nodes = ["prod-batch-01", "prod-batch-02", "dev-02"]
    sc.heartbeats(f, nodes)
    good = Image(REG + "/batch/reconcile", "4.1.0", "/usr/local/bin/reconcile", DEBIAN12[:8])
    sc.steady(f, pods(sc, good, "batch", nodes[:2], "reconcile"), per_hour=3)
    adhoc = Image(REG + "/batch/fix-ledger", "manual", "/usr/local/bin/python3.11", DEBIAN12 + PYTHON311)
    bad = pods(sc, adhoc, "batch", ["prod-batch-01"], "fix-ledger", slsa=0, policy="batch-audit")[0]
    sc.sim.process_start(f, sc.t0 + 8 * MIN, bad, image=True)
    dev = pods(sc, adhoc, "dev-erin", ["dev-02"], "fix-ledger", slsa=0, policy="dev-permissive")[0]
    sc.sim.process_start(f, sc.t0 + 20 * MIN, dev, image=True)
    tools = pods(sc, adhoc, "tools", ["prod-batch-02"], "fix-ledger", slsa=0, policy="tools-audit")[0]
    sc.sim.process_start(f, sc.t0 + 26 * MIN, tools, image=True)
    sc.sboms["batch-reconcile-4.1.0.cdx.json"] = cyclonedx_json(good.ref, good.digest, good.libs)
    for subject in (adhoc.digest, bad.binary_digest):
        sc.expect("claw_low_slsa_in_prod", subject_digest=subject, host="prod-batch-01", namespace="batch")
    return sc


def sensor_silent():
    sc = Scenario("attack-sensor-silent",
                  "Bare-metal PostgreSQL hosts bm-db-01/02 run claw-runtime as a systemd service (Fluent Bit "
                  "systemd input: journal records with the claw JSON in MESSAGE); their postgres binaries are "
                  "covered by in-toto links from the packaging pipeline (materials = libraries). Three "
                  "Kubernetes nodes send raw JSON lines. At 12:21 someone with root on bm-db-02 stops "
                  "claw-runtime (`systemctl stop`): its heartbeats end and are silent for 39 minutes by the "
                  "end of the window, so claw_sensor_silent fires for (bm-db-02, claw-bm-db-02). prod-app-02's "
                  "agent is OOM-killed at 12:30 mid-write (one truncated JSON line, which the replay must skip "
                  "with a warning) and restarts (3-minute gap, then heartbeats resume): no alert.")
    fj, fr = "bm-db.journal.jsonl", "nodes.jsonl"
    dbs = ["bm-db-01", "bm-db-02"]
    nodes = ["prod-app-01", "prod-app-02", "prod-app-03"]
    sc.heartbeats(fj, ["bm-db-01"])
    sc.heartbeats(fj, ["bm-db-02"], end=sc.t0 + 21 * MIN)
    sc.heartbeats(fr, nodes, gaps={"prod-app-02": ((sc.t0 + 30 * MIN, sc.t0 + 33 * MIN),)})
    # the agent was OOM-killed in the middle of writing a line: the file keeps a truncated record
    cut = sc.sim.base(sc.t0 + 30 * MIN, "agent_heartbeat", "prod-app-02")
    sc.sim.add(fr, sc.t0 + 30 * MIN, dumps(cut)[:97])
    sc.steady(fr, pods(sc, PAYMENTS, "payments-prod", nodes, "payments-api"), per_hour=3)
    for host in dbs:
        wl = Workload(sc.sim, "postgres", host, "/usr/pgsql-16/bin/postgres", POSTGRES, slsa=3,
                      policy="host-baseline")
        # postgres forks a backend per connection: a process start with its library loads each time
        sc.steady(fj, [wl], per_hour=6, end=sc.t0 + 21 * MIN if host == "bm-db-02" else None,
                  first_image=False)
        name, text = intoto_link("package-" + host, wl.binary, wl.binary_digest, POSTGRES,
                                 ["rpmbuild", "-bb", "postgresql16.spec"])
        sc.sboms[name] = text
    sc.expect("claw_sensor_silent", host="bm-db-02", agent_id="claw-bm-db-02")
    return sc


def cve_reason(n):
    rows = []
    for i in range(n):
        rows.append("CVE-2026-%05d (critical, CVSS 9.%d) in libfoo%d %d.%d.%d: fixed in %d.%d.%d; "
                    "exploit maturity functional; policy rule no-critical-unfixed-older-than-7d"
                    % (1000 + i * 37, i % 10, i % 17, 1 + i % 3, i % 9, i % 13, 1 + i % 3, i % 9, 1 + i % 13))
    return "image violates policy shop-prod-strict: %d findings: %s" % (n, "; ".join(rows))


def denied_then_allowed():
    sc = Scenario("attack-denied-then-allowed-tag-swap",
                  "shop-prod: registry.example.com/shop/cart:2.3.1 is Denied at 12:12 (a Denied verdict whose "
                  "reason lists 230 critical findings: a ~35 KiB JSON line that containerd splits into CRI "
                  "P/P/F partials). At 12:29 the same image_ref is Allowed with ANOTHER digest: the tag was "
                  "re-pushed with an image stripped of the findings, a tag swap to get past policy. "
                  "claw_denied_then_allowed fires for (shop-prod, the image_ref, the Allowed digest). Not "
                  "alerting, by design: search Denied at 12:05 and its fixed digest Allowed at 12:50 (45 min, "
                  "outside the 30-minute window); checkout Denied in shop-staging and then Allowed in shop-prod "
                  "(another namespace); a Denied digest re-admitted unchanged (same digest).")
    f = "claw-runtime.cri.log"
    nodes = ["prod-app-01", "prod-app-02"]
    sc.heartbeats(f, nodes)
    cart = pods(sc, CART, "shop-prod", nodes, "cart")
    sc.steady(f, cart, per_hour=3)
    swapped = Image(CART.repo, CART.tag, CART.binary, CART.libs, label="2.3.1-reupload")
    sc.sim.image_attestation(f, sc.t0 + 12 * MIN, cart[0], verdict="Denied", slsa=3,
                             policy="shop-prod-strict", reason=cve_reason(230))
    wl = cart[0].moved(sc.sim, pod="cart-7d9f8b6c5-r2d2x", image_digest=swapped.digest)
    sc.sim.process_start(f, sc.t0 + 29 * MIN, wl, image=True)
    search = Image(REG + "/shop/search", "1.9.0", "/usr/local/bin/gunicorn", DEBIAN12 + PYTHON311)
    search_fixed = Image(REG + "/shop/search", "1.9.0", search.binary, search.libs, label="1.9.0-fixed")
    s1 = pods(sc, search, "shop-prod", ["prod-app-02"], "search")[0]
    sc.sim.image_attestation(f, sc.t0 + 5 * MIN, s1, verdict="Denied", policy="shop-prod-strict",
                             reason=cve_reason(3))
    sc.sim.process_start(f, sc.t0 + 50 * MIN, s1.moved(sc.sim, image_digest=search_fixed.digest), image=True)
    checkout = Image(REG + "/shop/checkout", "7.0.2", "/usr/local/bin/gunicorn", DEBIAN12 + PYTHON311)
    c_stage = pods(sc, checkout, "shop-staging", ["prod-app-01"], "checkout", policy="staging")[0]
    sc.sim.image_attestation(f, sc.t0 + 14 * MIN, c_stage, verdict="Denied", policy="staging",
                             reason="provenance builder not trusted in staging: builder.id mismatch")
    c_prod = c_stage.moved(sc.sim, namespace="shop-prod", pod="checkout-6b7c8d9e0-h4k2l",
                           image_digest=digest("image|checkout-7.0.2-rebuilt"))
    sc.sim.process_start(f, sc.t0 + 24 * MIN, c_prod, image=True)
    sc.sim.image_attestation(f, sc.t0 + 33 * MIN, cart[1], verdict="Denied", policy="shop-prod-strict",
                             reason="attestation bundle fetch timed out (registry 503)")
    sc.sim.process_start(f, sc.t0 + 35 * MIN, cart[1], image=True)
    sc.sboms["cart-2.3.1.spdx.json"] = spdx_json(CART.ref, CART.digest, CART.libs, distro="debian-12")
    sc.expect("claw_denied_then_allowed", namespace="shop-prod", image_ref=CART.ref, image_digest=swapped.digest)
    return sc


def expired_allowlist():
    sc = Scenario("attack-unlisted-library-expired-allowlist",
                  "Tuning: lookups/claw_allowlist.csv allows the Dynatrace OneAgent library for every "
                  "detection until 2027-12-31, and allowed the retired AppDynamics native agent until "
                  "2026-09-30. Rows past `expires` are ignored: the AppDynamics library still loaded by "
                  "payments-api on prod-app-01 raises claw_unlisted_library_load, so the owner must renew the "
                  "exception or remove the agent; the Dynatrace library (valid row) stays silent. Raw JSON.")
    sc.lookup("claw_allowlist.csv",
              ["detection_id", "subject_digest", "library_path", "namespace", "image_ref", "expires", "reason"],
              [["*", "", "/opt/dynatrace/oneagent/agent/bin/*/linux-x86-64/liboneagentproc.so", "", "",
                "2027-12-31", "Dynatrace OneAgent injected via ld.so.preload (CHG-4411)"],
               ["claw_unlisted_library_load", "", "/opt/appdynamics/*/libappdynamics_native_sdk.so",
                "payments-*", "", "2026-09-30", "AppDynamics agent until migration (CHG-3120)"]])
    nodes = ["prod-app-01", "prod-app-02"]
    f = "prod-app.jsonl"
    sc.heartbeats(f, nodes)
    wls = pods(sc, PAYMENTS, "payments-prod", nodes, "payments-api")
    dyn = Lib("/opt/dynatrace/oneagent/agent/bin/1.301.61.20241115-145326/linux-x86-64/liboneagentproc.so",
              "-", "-", "dynatrace")
    appd = Lib("/opt/appdynamics/4.5.19/libappdynamics_native_sdk.so", "-", "-", "appdynamics")
    sc.steady(f, wls[:1], per_hour=4)
    sc.steady(f, wls[1:], per_hour=4)
    for t in range(4):
        sc.sim.process_start(f, sc.t0 + (5 + 14 * t) * MIN, wls[0], libs=[dyn, appd] + PAYMENTS.libs)
        sc.sim.process_start(f, sc.t0 + (9 + 14 * t) * MIN, wls[1], libs=[dyn] + PAYMENTS.libs)
    sc.sboms["payments-api-1.4.0.cdx.json"] = cyclonedx_json(PAYMENTS.ref, PAYMENTS.digest, PAYMENTS.libs)
    sc.expect("claw_unlisted_library_load", subject_digest=wls[0].binary_digest, library_path=appd.path,
              host="prod-app-01", namespace="payments-prod")
    return sc


def workload_risk():
    sc = Scenario("attack-workload-risk-staging-compromise",
                  "Risk-based alerting: in payments-staging (nonprod, where workload detections only add risk) "
                  "the release candidate registry.example.com/payments/api:1.5.0-rc.3 is Denied at 12:04 "
                  "(provenance not signed by the release builder) and the same tag is Allowed at 12:11 with "
                  "another digest (claw_denied_then_allowed: risk only). At 12:38 the pod started from it "
                  "maps /dev/shm/.s/libpam_ext.so (claw_library_from_writable_path: risk only). Neither "
                  "alerts on its own; the pod collects risk from two different detections within 24 h, so "
                  "`--risk` must raise one claw_workload_risk incident for it. Without --risk: no alert. "
                  "HEC, Merge_Log On, Keep_Log Off.")
    f = "staging.merge.hec.jsonl"
    nodes = ["stg-app-01", "stg-app-02"]
    sc.heartbeats(f, nodes)
    rc = Image(REG + "/payments/api", "1.5.0-rc.3", PAYMENTS.binary, PAYMENTS.libs)
    good = pods(sc, PAYMENTS, "payments-staging", nodes, "payments-api", policy="staging")
    sc.steady(f, good, per_hour=3)
    wl = pods(sc, rc, "payments-staging", ["stg-app-02"], "payments-api", policy="staging")[0]
    sc.sim.image_attestation(f, sc.t0 + 4 * MIN, wl, verdict="Denied",
                             reason="provenance builder.id https://ci.example.com/runners/adhoc is not trusted")
    swapped = Image(rc.repo, rc.tag, rc.binary, rc.libs, label="1.5.0-rc.3-swapped")
    bad = wl.moved(sc.sim, image_digest=swapped.digest)
    sc.steady(f, [bad], per_hour=3, start=sc.t0 + 11 * MIN)
    sc.sim.library_load(f, sc.t0 + 38 * MIN, bad, Lib("/dev/shm/.s/libpam_ext.so", "-", "-", "attacker"), 2231)
    sc.sboms["payments-api-1.4.0.cdx.json"] = cyclonedx_json(PAYMENTS.ref, PAYMENTS.digest, PAYMENTS.libs)
    sc.expect("claw_workload_risk", risk_object=bad.pod,
              detections=["claw_denied_then_allowed", "claw_library_from_writable_path"])
    return sc
