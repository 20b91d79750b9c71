"""Building blocks of the scenario generator (stdlib only, deterministic).

Time is integer nanoseconds since the epoch; every random choice comes from a
``random.Random`` seeded with the scenario name, so ``generate.py`` rewrites
every scenario byte for byte. Digests are sha256 of readable labels, so the
same library in the same base image has the same digest in every scenario.
"""
import datetime
import hashlib
import json
import random
import uuid

NS = 1000000000
MIN = 60 * NS
HOUR = 60 * MIN
RUNTIME_VERSION = "1.8.2"
CRI_MAX = 16384  # containerd splits log lines longer than 16 KiB into P partials


def epoch_ns(text):
    """``2026-11-20T12:00:00Z`` to integer nanoseconds."""
    dt = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()) * NS


def rfc3339(t_ns):
    sec, frac = divmod(t_ns, NS)
    dt = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % frac


def hexdigest(label):
    return hashlib.sha256(label.encode("utf-8")).hexdigest()


def digest(label):
    return "sha256:" + hexdigest(label)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


class Lib(object):
    """A shared object as the SBOM lists it (``path``) and as the loader maps it."""

    def __init__(self, path, package, version, base):
        self.path, self.package, self.version = path, package, version
        self.digest = digest("%s|%s|%s" % (base, path, version))


def libset(base, specs):
    """[Lib] from ``(path, package, version)`` triples of one base image."""
    return [Lib(path, pkg, ver, base) for path, pkg, ver in specs]


class Workload(object):
    """A container (or a host service) that runs one attested binary."""

    def __init__(self, sim, name, node, binary, libs, image_ref=None, image_digest=None,
                 namespace=None, pod=None, slsa=3, policy="prod-baseline", tier=None,
                 labels=None, hashing=True, path_prefix="", k8s_fields=True):
        self.name, self.node, self.binary, self.libs = name, node, binary, libs
        self.image_ref, self.image_digest = image_ref, image_digest
        self.namespace, self.pod, self.slsa, self.policy = namespace, pod, slsa, policy
        self.tier, self.labels = tier, dict(labels or {})
        if tier and "tier" not in self.labels:
            self.labels["tier"] = tier
        self.hashing, self.path_prefix, self.k8s_fields = hashing, path_prefix, k8s_fields
        self.binary_digest = digest("bin|%s|%s" % (image_digest or node, binary))
        self.container_id = hexdigest("cid|%s|%s|%s" % (sim.name, name, pod)) if image_ref else None
        self.material = ("oci://%s@%s" % (image_ref.split(":")[0].split("@")[0], image_digest)
                         if image_ref else "file://%s" % binary)

    def moved(self, sim, node=None, pod=None, **changes):
        """A copy of this workload as a new pod (HPA, drain, rollout)."""
        twin = Workload.__new__(Workload)
        twin.__dict__.update(self.__dict__)
        twin.__dict__.update(changes)
        twin.node = node or self.node
        twin.pod = pod or self.pod
        if "image_digest" in changes or "binary" in changes:
            twin.binary_digest = digest("bin|%s|%s" % (twin.image_digest or twin.node, twin.binary))
            twin.material = "oci://%s@%s" % (twin.image_ref.split(":")[0], twin.image_digest)
        if twin.image_ref:
            twin.container_id = hexdigest("cid|%s|%s|%s|%s" % (sim.name, twin.name, twin.pod, twin.node))
        return twin


class Sim(object):
    """Collects events per output file; ``render`` writes them in a delivery shape."""

    def __init__(self, name):
        self.name = name
        self.rng = random.Random("claw-scenarios:" + name)
        self.files = {}   # file name -> list of (t_ns, seq, event, workload)
        self.seq = 0
        self.pids = {}

    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def jitter(self, span_ns):
        return self.rng.randrange(max(1, span_ns))

    def add(self, fname, t_ns, event, wl=None):
        self.seq += 1
        self.files.setdefault(fname, []).append((t_ns, self.seq, event, wl))

    def base(self, t_ns, event_type, node):
        return {"timestamp": rfc3339(t_ns), "event_id": self.uuid(), "event_type": event_type,
                "agent_id": "claw-" + node, "runtime_version": RUNTIME_VERSION, "host": node}

    def _workload_fields(self, ev, wl):
        if wl.container_id:
            ev["container_id"] = wl.container_id
            ev["image_ref"] = wl.image_ref
            ev["image_digest"] = wl.image_digest
        if wl.namespace and wl.k8s_fields:
            ev["k8s_namespace"] = wl.namespace
            ev["k8s_pod"] = wl.pod
            if wl.labels:  # the pod's labels, as the sensor read them (workload-written)
                ev["k8s_labels"] = dict(sorted(wl.labels.items()))

    def heartbeats(self, fname, node, start, end, gaps=(), agent=None, version=RUNTIME_VERSION,
                   node_labels=None):
        """One ``agent_heartbeat`` every 60 s (small jitter), none inside ``gaps``;
        ``node_labels``: the node's labels (``k8s_node_labels``, Kubernetes nodes)."""
        t = start + self.jitter(60 * NS)
        while t < end:
            if not any(a <= t < b for a, b in gaps):
                ev = self.base(t + self.jitter(NS // 5), "agent_heartbeat", node)
                if agent:
                    ev["agent_id"] = agent
                ev["runtime_version"] = version
                ev["uptime_s"] = int((t - start) // NS)
                if node_labels:
                    ev["k8s_node_labels"] = dict(sorted(node_labels.items()))
                self.add(fname, t, ev)
            t += 60 * NS

    def image_attestation(self, fname, t, wl, verdict="Allowed", slsa=None, policy=None, reason=None,
                          subject_digest=None):
        ev = self.base(t, "image_attestation", wl.node)
        ev.update(verdict=verdict, subject_digest=subject_digest or wl.image_digest,
                  subject_name=wl.image_ref, material_uri=wl.material,
                  slsa_level=wl.slsa if slsa is None else slsa, policy_name=policy or wl.policy)
        if reason:
            ev["reason"] = reason
        self._workload_fields(ev, wl)
        self.add(fname, t, ev, wl)

    def process_start(self, fname, t, wl, libs=None, extra_libs=(), image=False, pid=None):
        """A process start: (image attestation,) binary attestation, then its library loads."""
        if image:
            self.image_attestation(fname, t, wl)
            t += 40 * 1000000 + self.jitter(200 * 1000000)
        pid = pid or self.rng.randrange(300, 60000)
        ev = self.base(t, "binary_attestation", wl.node)
        ev.update(verdict="Allowed", subject_digest=wl.binary_digest, subject_name=wl.binary,
                  material_uri=wl.material, slsa_level=wl.slsa, policy_name=wl.policy,
                  triggering_process_path=wl.binary, pid=pid)
        self._workload_fields(ev, wl)
        self.add(fname, t, ev, wl)
        t += 2 * 1000000
        for lib in list(libs if libs is not None else wl.libs) + list(extra_libs):
            t += 150000 + self.jitter(3 * 1000000)
            self.library_load(fname, t, wl, lib, pid)
        return t

    def library_load(self, fname, t, wl, lib, pid, path=None, hashing=None):
        ev = self.base(t, "library_load", wl.node)
        ev.update(subject_digest=wl.binary_digest, subject_name=wl.binary, material_uri=wl.material,
                  triggering_process_path=wl.binary, pid=pid,
                  library_path=path or (wl.path_prefix + lib.path))
        if wl.hashing if hashing is None else hashing:
            ev["library_digest"] = lib.digest
        self._workload_fields(ev, wl)
        self.add(fname, t, ev, wl)

    def mismatch(self, fname, t, wl, expected, observed, reason):
        ev = self.base(t, "manifest_digest_mismatch", wl.node)
        ev.update(subject_digest=expected, subject_name=wl.image_ref, material_uri=wl.material,
                  reason=reason, expected_digest=expected, observed_digest=observed)
        self._workload_fields(ev, wl)
        self.add(fname, t, ev, wl)

    # ---- rendering: the four delivery shapes ---------------------------------------
    def render(self, fname):
        rows = sorted(self.files[fname], key=lambda r: (r[0], r[1]))
        if fname.endswith(".cri.log"):
            return self._render_cri(rows)
        if fname.endswith(".hec.jsonl"):
            return self._render_hec(rows, merge="merge" in fname, keep_log="keeplog" in fname)
        if fname.endswith(".journal.jsonl"):
            return self._render_journal(rows)
        # a str event is a raw line as written (e.g. truncated by a killed writer)
        return "".join((ev if isinstance(ev, str) else dumps(ev)) + "\n" for _, _, ev, _ in rows)

    def _render_cri(self, rows):
        out = []
        for t, _, ev, _ in rows:
            line = dumps(ev)
            stamp = rfc3339(t + 30000 + self.jitter(900000))
            pieces = [line[i:i + CRI_MAX] for i in range(0, len(line), CRI_MAX)] or [""]
            for piece in pieces[:-1]:
                out.append("%s stdout P %s\n" % (stamp, piece))
            out.append("%s stdout F %s\n" % (stamp, pieces[-1]))
        return "".join(out)

    def _kubernetes(self, node):
        """Fluent Bit's `kubernetes` object: the pod that wrote the line, i.e. the
        claw-runtime daemonset pod on that node (never the workload an event is about)."""
        pod = "claw-runtime-" + hexdigest("sensor|" + node)[:5]
        image = "registry.example.com/claw/runtime:" + RUNTIME_VERSION
        return {"pod_name": pod, "namespace_name": "claw-system",
                "pod_id": str(uuid.UUID(hexdigest("pod|%s|%s" % (self.name, pod))[:32])),
                "host": node, "container_name": "claw-runtime",
                "docker_id": hexdigest("cid|sensor|" + node),
                "container_hash": "registry.example.com/claw/runtime@" + digest("claw-runtime " + RUNTIME_VERSION),
                "container_image": image, "labels": {"app.kubernetes.io/name": "claw-runtime"}}

    def _render_hec(self, rows, merge, keep_log):
        out = []
        for t, _, ev, wl in rows:
            record = {"stream": "stdout", "_p": "F"}
            if merge:
                if keep_log:
                    record["log"] = dumps(ev)
                record.update(ev)
            else:
                record["log"] = dumps(ev)
            record["kubernetes"] = self._kubernetes(ev["host"])
            payload = {"time": round((t + 5000000) / float(NS), 6), "host": ev["host"],
                       "source": "claw-runtime", "sourcetype": "claw:runtime", "index": "claw",
                       "event": record}
            out.append(dumps(payload) + "\n")
        return "".join(out)

    def _render_journal(self, rows):
        out = []
        for t, _, ev, _ in rows:
            node = ev["host"]
            record = {"_HOSTNAME": node, "_SYSTEMD_UNIT": "claw-runtime.service",
                      "SYSLOG_IDENTIFIER": "claw-runtime", "_COMM": "claw-runtime",
                      "_PID": str(700 + int(hexdigest(node)[:4], 16) % 900), "PRIORITY": "6",
                      "_TRANSPORT": "stdout", "_BOOT_ID": hexdigest("boot|" + node)[:32],
                      "_MACHINE_ID": hexdigest("machine|" + node)[:32],
                      "__REALTIME_TIMESTAMP": str((t + 2000000) // 1000),
                      "MESSAGE": dumps(ev)}
            out.append(dumps(record) + "\n")
        return "".join(out)
