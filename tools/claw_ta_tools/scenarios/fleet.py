"""The simulated fleet: base images and their libraries, images, and the Scenario container."""
import json

from claw_ta_tools.scenarios.simulation import HOUR, MIN, NS, Lib, Sim, digest, dumps, epoch_ns, libset, rfc3339

DEBIAN12 = libset("debian-12", [
    ("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "libc6", "2.36-9+deb12u7"),
    ("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc6", "2.36-9+deb12u7"),
    ("/usr/lib/x86_64-linux-gnu/libm.so.6", "libc6", "2.36-9+deb12u7"),
    ("/usr/lib/x86_64-linux-gnu/libpthread.so.0", "libc6", "2.36-9+deb12u7"),
    ("/usr/lib/x86_64-linux-gnu/libdl.so.2", "libc6", "2.36-9+deb12u7"),
    ("/usr/lib/x86_64-linux-gnu/librt.so.1", "libc6", "2.36-9+deb12u7"),
    ("/usr/lib/x86_64-linux-gnu/libgcc_s.so.1", "libgcc-s1", "12.2.0-14"),
    ("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "zlib1g", "1:1.2.13.dfsg-1"),
    ("/usr/lib/x86_64-linux-gnu/libssl.so.3", "libssl3", "3.0.15-1~deb12u1"),
    ("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "libssl3", "3.0.15-1~deb12u1"),
    ("/usr/lib/x86_64-linux-gnu/libzstd.so.1.5.4", "libzstd1", "1.5.4+dfsg2-5"),
    ("/usr/lib/x86_64-linux-gnu/liblzma.so.5.4.1", "liblzma5", "5.4.1-0.2"),
])
PYTHON311 = libset("python-3.11.10-debian-12", [
    ("/usr/local/lib/libpython3.11.so.1.0", "python3.11", "3.11.10"),
    ("/usr/lib/x86_64-linux-gnu/libffi.so.8.1.2", "libffi8", "3.4.4-1"),
    ("/usr/lib/x86_64-linux-gnu/libpq.so.5.15", "libpq5", "15.8-0+deb12u1"),
    ("/usr/lib/x86_64-linux-gnu/libgssapi_krb5.so.2.2", "libgssapi-krb5-2", "1.20.1-2+deb12u2"),
    ("/usr/lib/x86_64-linux-gnu/libkrb5.so.3.3", "libkrb5-3", "1.20.1-2+deb12u2"),
    ("/usr/lib/x86_64-linux-gnu/libk5crypto.so.3.1", "libk5crypto3", "1.20.1-2+deb12u2"),
    ("/usr/lib/x86_64-linux-gnu/libkrb5support.so.0.1", "libkrb5support0", "1.20.1-2+deb12u2"),
    ("/usr/lib/x86_64-linux-gnu/libldap-2.5.so.0.1.11", "libldap-2.5-0", "2.5.13+dfsg-5"),
    ("/usr/lib/x86_64-linux-gnu/liblber-2.5.so.0.1.11", "libldap-2.5-0", "2.5.13+dfsg-5"),
    ("/usr/lib/x86_64-linux-gnu/libsasl2.so.2.0.25", "libsasl2-2", "2.1.28+dfsg-10"),
    ("/usr/lib/x86_64-linux-gnu/libkeyutils.so.1.10", "libkeyutils1", "1.6.3-2"),
    ("/usr/lib/x86_64-linux-gnu/libcom_err.so.2.1", "libcom-err2", "1.47.0-2"),
] + [("/usr/local/lib/python3.11/lib-dynload/%s.cpython-311-x86_64-linux-gnu.so" % m, "python3.11", "3.11.10")
     for m in ("_ssl", "_hashlib", "_json", "_struct", "select", "_posixsubprocess", "_ctypes", "_decimal")] + [
    ("/usr/local/lib/python3.11/site-packages/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so",
     "psycopg2", "2.9.9"),
])
JAMMY = libset("ubuntu-22.04", [
    ("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/libm.so.6", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/libpthread.so.0", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/libdl.so.2", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/librt.so.1", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/libz.so.1.2.11", "zlib1g", "1:1.2.11.dfsg-2ubuntu9.2"),
    ("/usr/lib/x86_64-linux-gnu/libgcc_s.so.1", "libgcc-s1", "12.3.0-1ubuntu1~22.04"),
])
TEMURIN17 = libset("temurin-17.0.13-jammy", [
    ("/opt/java/openjdk/lib/server/libjvm.so", "temurin-17-jre", "17.0.13+11"),
] + [("/opt/java/openjdk/lib/%s" % name, "temurin-17-jre", "17.0.13+11")
     for name in ("libjli.so", "libjava.so", "libjimage.so", "libzip.so", "libnio.so", "libnet.so",
                  "libextnet.so", "libverify.so", "libmanagement.so", "libmanagement_ext.so",
                  "libprefs.so", "libjaas.so", "libsctp.so", "libawt.so", "libawt_headless.so")])
NGINX = libset("nginx-1.27-debian-12", [
    ("/usr/lib/x86_64-linux-gnu/libcrypt.so.1.1.0", "libcrypt1", "1:4.4.33-2"),
    ("/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0.11.2", "libpcre2-8-0", "10.42-1"),
    ("/usr/lib/nginx/modules/ngx_http_geoip_module.so", "nginx-module-geoip", "1.27.2-1~bookworm"),
    ("/usr/lib/x86_64-linux-gnu/libGeoIP.so.1.6.12", "libgeoip1", "1.6.12-10"),
])
ENVOY = libset("istio-proxyv2-1.23.2", [
    ("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/libm.so.6", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/libpthread.so.0", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/libdl.so.2", "libc6", "2.35-0ubuntu3.8"),
    ("/usr/lib/x86_64-linux-gnu/librt.so.1", "libc6", "2.35-0ubuntu3.8"),
])

REG = "registry.example.com"


class Image(object):
    def __init__(self, repo, tag, binary, libs, label=None):
        self.repo, self.tag, self.binary, self.libs = repo, tag, binary, libs
        self.ref = "%s:%s" % (repo, tag)
        self.digest = digest("image|%s|%s" % (repo, label or tag))


class Scenario(object):
    """One scenario folder: scenario.json, events/, sboms/, lookups/, expected.jsonl."""

    def __init__(self, name, description, detect_from="2026-11-20T12:00:00Z",
                 detect_to="2026-11-20T13:00:00Z"):
        self.name, self.description = name, description
        self.detect_from, self.detect_to = detect_from, detect_to
        self.t0, self.t1 = epoch_ns(detect_from), epoch_ns(detect_to)
        self.sim = Sim(name)
        self.sboms, self.lookups, self.expected = {}, {}, []
        self.node_pools = {}  # node -> labels its node pool adds (e.g. {"tier": "frontend"})

    def expect(self, detection_id, **fields):
        row = {"detection_id": detection_id}
        row.update(fields)
        self.expected.append(row)

    def lookup(self, fname, header, rows):
        self.lookups[fname] = ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows)

    def files(self):
        out = {"scenario.json": json.dumps({"name": self.name, "description": self.description,
                                            "detect_from": self.detect_from,
                                            "detect_to": self.detect_to}, indent=2) + "\n"}
        for fname in sorted(self.sim.files):
            out["events/" + fname] = self.sim.render(fname)
        for fname, text in sorted(self.sboms.items()):
            out["sboms/" + fname] = text
        for fname, text in sorted(self.lookups.items()):
            out["lookups/" + fname] = text
        if self.expected:
            out["expected.jsonl"] = "".join(dumps(r) + "\n" for r in self.expected)
        return out

    # ---- common background ---------------------------------------------------------
    def node_labels(self, node):
        """The labels a Kubernetes node's sensor reports (``k8s_node_labels``); None for
        bare-metal hosts (``bm-*``, no Kubernetes). Platform labels as the kubelet sets them."""
        if node.startswith("bm-"):
            return None
        labels = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64" if "-arm-" in node else "amd64"}
        labels.update(self.node_pools.get(node, {}))
        return labels

    def heartbeats(self, fname, nodes, start=None, end=None, gaps=None):
        for node in nodes:
            self.sim.heartbeats(fname, node, self.t0 - HOUR if start is None else start,
                                self.t1 if end is None else end, gaps=(gaps or {}).get(node, ()),
                                node_labels=self.node_labels(node))

    def steady(self, fname, workloads, per_hour, start=None, end=None, first_image=True):
        """Each workload: a container start (image attestation) then worker restarts at ``per_hour``."""
        start = self.t0 - 30 * MIN if start is None else start
        end = self.t1 if end is None else end
        for wl in workloads:
            t = start + self.sim.jitter(10 * MIN)
            self.sim.process_start(fname, t, wl, image=first_image)
            step = int(HOUR / per_hour)
            t += step // 2 + self.sim.jitter(step)
            while t < end:
                self.sim.process_start(fname, t, wl)
                t += step // 2 + self.sim.jitter(step)

    def attestation_history(self, fname, workloads, hours=48, per_hour=2):
        """Baseline history: only attestations (what the tier baseline is trained on)."""
        for wl in workloads:
            t = self.t0 - hours * HOUR + self.sim.jitter(30 * MIN)
            step = int(HOUR / per_hour)
            while t < self.t0 - 2 * HOUR:
                self.sim.image_attestation(fname, t, wl) if self.sim.rng.random() < 0.3 else \
                    self._binary_only(fname, t, wl)
                t += step // 2 + self.sim.jitter(step)

    def _binary_only(self, fname, t, wl):
        self.sim.process_start(fname, t, wl, libs=[])


__all__ = ["DEBIAN12", "PYTHON311", "JAMMY", "TEMURIN17", "NGINX", "ENVOY", "REG", "Image", "Scenario",
           "Lib", "HOUR", "MIN", "NS", "rfc3339", "digest"]
