"""The detections of TA-claw-runtime, defined once.

Everything a detection decides is here, as named data (keyword arguments of
``claw_ta.detections.detection.Detection``, which documents each field): its
stages (selection and the command it relies on), whether it alerts only in
production namespaces, its entity (= throttle) fields, severity, risk score,
MITRE ATT&CK techniques, schedule, and the scenarios that test it.
``generate.py`` writes savedsearches.conf / macros.conf and the detection table
of docs/detections.md from it; ``engine.py`` replays the very same stages over
a scenario directory. docs/detections.md ("Adding a detection") says which
files a new detection touches.

``detection_id`` values are a public contract (scenarios and allowlists use them).
"""
from claw_ta.detections.detection import Detection
from claw_ta.detections.filters import BelowParam, Not, Regex, Search, Where
from claw_ta.detections.stages import (Aggregate, DeniedThenAllowed, LookupEquals, NodePlatform,
                                       NotSameAttestation, SbomUnlisted, SilentSince, TierAnomaly)

# Tunable thresholds: each is a macro (override it in local/macros.conf); the
# replay reads the effective value from the app's macros.conf files.
PARAMS = (
    ("claw_min_slsa_level", 2, "claw_low_slsa_in_prod: Allowed attestations below this SLSA level alert"),
    ("claw_sensor_silent_minutes", 10, "claw_sensor_silent: minutes without a heartbeat before an agent counts as silent"),
    ("claw_denied_then_allowed_minutes", 30, "claw_denied_then_allowed: how long after a denial an Allowed other digest counts"),
)

SEVERITY_LEVELS = {"info": 2, "low": 3, "medium": 4, "high": 5, "critical": 6}

# Libraries mapped from a writable or anonymous place: /tmp, /var/tmp, /dev/shm, /run and
# /var/run (also as seen through a container's overlay rootfs or snapshot), or fileless (a memfd,
# /proc/<self|thread-self|pid>/fd/N) wherever it is. /run/containerd's (and k3s's) task bundles
# are where the host sees a container's root filesystem: judged by what follows their rootfs.
# A file deleted while mapped (`` (deleted)``) is judged by the folder it was in: a system library
# replaced by a package upgrade while mapped is no finding.
_WRITABLE = "(tmp|var/tmp|dev/shm|run|var/run)/"
_FILELESS = "(memfd:|proc/(self|thread-self|[0-9]+)/fd/)"
# A name made not to match a listed file, wherever it is: a control or non-ASCII character (a
# no-break space), a backslash, a leading or trailing space (escapes PCRE and Python read alike).
ODD_NAME = r"[^\x20-\x7e]|\\|^[ ]|[ ]$"
WRITABLE_PATH = ("^/(tmp|var/tmp|dev/shm)/"
                 "|^/(var/)?run/(?!(k3s/)?containerd/io[.]containerd[.]runtime[.]v2[.]task/)"
                 "|^/?" + _FILELESS +
                 "|/(rootfs|merged|fs|root)/(" + _WRITABLE + "|" + _FILELESS + ")"
                 "|" + ODD_NAME)
# Native libraries the JVM's well-known JNI loaders extract to /tmp (snappy-java,
# netty, JNA, sqlite-jdbc, lz4-java, zstd-jni, jansi, conscrypt, rocksdbjni):
# not alerted when, and only when, a java process loads them.
JNI_EXTRACTED = ("^/tmp/([^/]*libsnappyjava[.]so|libnetty_[^/]*[.]so|jna[^/]*/[^/]+"
                 "|[^/]*libsqlitejdbc[.]so|liblz4-java[^/]*[.]so|libzstd-jni[^/]*[.]so"
                 "|[^/]*libjansi[.]so|libconscrypt_[^/]*[.]so|librocksdbjni[^/]*[.]so)$")
JAVA_PROCESS = "(^|/)java$"

ATTESTATIONS = ("binary_attestation", "image_attestation")
# The tier detection also reads the sensor's heartbeats: their node labels are a tier source.
TIER_INPUT = ATTESTATIONS + ("agent_heartbeat",)


DETECTIONS = (
    Detection(
        detection_id="claw_unlisted_library_load",
        title="Unlisted Library Load",
        description="An attested binary loaded a shared library that its SBOM / in-toto links do not list "
                    "(clawsbomcheck sbom_status=unlisted): an injected or swapped library.",
        fires_on="`stats` of library loads, then `clawsbomcheck`, `sbom_status=unlisted`",
        stages=[Search(["library_load"]),
                Aggregate(["event_type", "subject_digest", "library_path", "library_digest", "image_digest",
                           "host", "namespace"], nullable=["library_digest", "image_digest", "namespace"],
                          values=["pod", "subject_name", "image_ref"]),
                NodePlatform(), SbomUnlisted()],
        entity_fields=["subject_digest", "library_path", "host", "namespace"],
        # a second swap of the file at an alerted path alerts again; a row can pin the file itself
        pin_fields=["library_digest"],
        severity="high", risk_score=70, mitre=["T1574.006", "T1195.002"],
        context_fields=["library_digest", "image_digest", "image_ref", "pod", "subject_name", "sbom_match",
                        "sbom_ref", "sbom_name", "sbom_trust", "sbom_signer", "sbom_reason"],
        scenarios=["attack-library-from-writable-path-fileless", "attack-unlisted-library-expired-allowlist",
                   "attack-unlisted-library-preload-rootkit", "attack-unlisted-library-swapped-libssl",
                   "benign-jni-libs-extracted-to-tmp"],
        quiet_in=["benign-apm-ld-preload", "benign-dev-debug-sanitizer", "benign-multi-arch-image",
                  "benign-service-mesh-sidecar"],
        false_positives="Libraries an SBOM generator misses (plugins loaded with dlopen, "
                        "JNI libraries extracted at run time): index a fuller SBOM or allowlist them."),
    Detection(
        detection_id="claw_attestation_spike_outside_tier",
        title="Attestation Spike Outside Tier",
        description="clawtierbaseline mode=detect: an image digest is attested on a host outside its learned "
                    "service tiers, or at a rate far above its baseline.",
        fires_on="`` `claw_tier_baseline_detect` `` rows with `is_anomaly=1`",
        stages=[Search(TIER_INPUT), TierAnomaly()],
        entity_fields=["image_digest", "host", "tier"],
        severity="medium", risk_score=40, mitre=["T1610", "T1525"],
        context_fields=["tier_status", "spike_score", "reason", "count"],
        interval_minutes=60, cron="5 * * * *",
        scenarios=["attack-tier-spike-lateral-movement", "attack-tier-spike-node-labels"],
        quiet_in=["benign-hpa-scale-out", "benign-node-drain", "benign-rollout-promotion"],
        false_positives="A new tier for a service (re-labelled nodes): retrain the baseline."),
    Detection(
        detection_id="claw_nonprod_image_in_prod",
        title="Non-Production Image In Production",
        description="An Allowed image attestation in a production namespace of an image reference that "
                    "claw_image_env marks non-production. Keyed on image_ref, not the digest: the same "
                    "digest promoted under a production reference does not alert.",
        fires_on="Allowed `image_attestation` whose `image_ref` is `nonprod` in `claw_image_env` (keyed on the "
                 "reference, so a digest promoted under a production reference is normal)",
        stages=[Search(["image_attestation"], verdict="Allowed"),
                Aggregate(["image_digest", "image_ref", "namespace", "host"], nullable=["namespace"],
                          values=["pod"]),
                LookupEquals("claw_image_env", "image_ref", "environment", "image_environment", "nonprod")],
        entity_fields=["image_digest", "image_ref", "namespace", "host"],
        severity="medium", risk_score=40, mitre=["T1610", "T1525"],
        context_fields=["pod", "image_environment"],
        scenarios=["attack-nonprod-image-in-prod"],
        quiet_in=["benign-ci-build-pods", "benign-dev-debug-sanitizer", "benign-rollout-promotion"],
        false_positives="Debug images deliberately run in production: allowlist the image_ref with an expiry."),
    Detection(
        detection_id="claw_manifest_digest_mismatch",
        title="Manifest Digest Mismatch",
        description="A running container's image manifest digest differs from the digest attested at deployment, "
                    "unless one trusted SBOM / attestation names both digests as its subjects (the per-platform "
                    "manifest of an attested multi-arch index).",
        fires_on="`manifest_digest_mismatch`, unless one SBOM/attestation names both digests as subjects (a "
                 "multi-arch index and its platform manifest), looked up in the subjects table "
                 "`claw_sbom_subjects` (one row per subject and document, so the lookup's `max_matches`, 100 by "
                 "default in file order, is not filled with library rows): one document is one `sbom_ref`, its "
                 "content digest (two files that share a name are two documents), and an `untrusted` one "
                 "does not count",
        stages=[Search(["manifest_digest_mismatch"]),
                Aggregate(["host", "namespace", "image_ref", "expected_digest", "observed_digest"],
                          nullable=["namespace", "image_ref"], values=["pod", "image_digest"]),
                NotSameAttestation("expected_digest", "observed_digest")],
        entity_fields=["host", "namespace", "image_ref", "expected_digest", "observed_digest"],
        severity="high", risk_score=80, mitre=["T1525", "T1195.002"],
        prod_only=False, context_fields=["pod", "image_digest"],
        scenarios=["attack-manifest-digest-mismatch", "benign-multi-arch-image"],
        false_positives="None expected: the runtime already compared attested and running digests."),
    Detection(
        detection_id="claw_library_from_writable_path",
        title="Library From Writable Path",
        description="A library was mapped from /tmp, /var/tmp, /dev/shm, /run or /var/run (also through a "
                    "container's overlay rootfs), or fileless from a memfd or /proc fd wherever it is, or under a "
                    "name made not to match (a control, non-ASCII or backslash character, a leading or trailing "
                    "space); a file deleted while mapped counts by the folder it was in. JNI libraries that "
                    "well-known Java loaders extract to /tmp are not alerted when a java process loads them.",
        fires_on="`library_path` under `/tmp`, `/var/tmp`, `/dev/shm`, `/run`, `/var/run` (also via an overlay "
                 "`rootfs`, `merged` or snapshot `fs`; not a containerd task bundle's own `rootfs`), `/memfd:`, "
                 "`/proc/{self,thread-self,<pid>}/fd/`, or a name with a control, non-ASCII or backslash character "
                 "or a leading or trailing space, wherever it is; a ` (deleted)` file by its folder; JNI libraries the "
                 "known Java loaders extract to `/tmp` are skipped only when a `java` process loads them",
        stages=[Search(["library_load"]),
                Where(Regex("library_path", WRITABLE_PATH),
                      Not(Regex("library_path", JNI_EXTRACTED), Regex("triggering_process_path", JAVA_PROCESS))),
                # library_digest is a group-by field, so an allowlist row pinned to a digest never
                # covers another file at the same path (values() would match any of them).
                Aggregate(["subject_digest", "library_path", "library_digest", "host", "namespace"],
                          nullable=["library_digest", "namespace"],
                          values=["pod", "image_digest", "image_ref", "triggering_process_path"])],
        entity_fields=["subject_digest", "library_path", "host"],
        severity="high", risk_score=64, mitre=["T1574.006", "T1620"],
        context_fields=["library_digest", "namespace", "pod", "image_digest", "image_ref",
                        "triggering_process_path"],
        scenarios=["attack-library-from-writable-path-fileless", "benign-jni-libs-extracted-to-tmp"],
        quiet_in=["benign-ci-build-pods", "benign-dev-debug-sanitizer"],
        false_positives="Runtimes that extract native code to /tmp (JNI beyond the known loaders, "
                        "Python wheels with native extensions unpacked at run time)."),
    Detection(
        detection_id="claw_low_slsa_in_prod",
        title="Low SLSA Level In Production",
        description="An Allowed attestation in production whose provenance proves an SLSA build level below "
                    "`claw_min_slsa_level` (2).",
        fires_on="Allowed attestation with `slsa_level` below `` `claw_min_slsa_level` `` (2)",
        stages=[Search(ATTESTATIONS, verdict="Allowed"),
                Where(BelowParam("slsa_level", "claw_min_slsa_level")),
                Aggregate(["subject_digest", "host", "namespace"], nullable=["namespace"],
                          values=["slsa_level", "subject_name", "pod", "image_digest", "image_ref"])],
        entity_fields=["subject_digest", "host", "namespace"],
        severity="medium", risk_score=35, mitre=["T1195.002"],
        context_fields=["slsa_level", "subject_name", "pod", "image_digest", "image_ref"],
        scenarios=["attack-low-slsa-in-prod"],
        quiet_in=["benign-ci-build-pods", "benign-dev-debug-sanitizer"],
        false_positives="Third-party images without provenance admitted by policy exceptions."),
    Detection(
        detection_id="claw_sensor_silent",
        title="Sensor Silent",
        description="An agent whose heartbeats were seen stopped sending them for more than "
                    "`claw_sensor_silent_minutes` (10) minutes by the end of the search window.",
        fires_on="an agent with heartbeats in the last 4 h and none for more than "
                 "`` `claw_sensor_silent_minutes` `` (10) at the end of the window",
        stages=[Search(["agent_heartbeat"]), Aggregate(["host", "agent_id"]),
                SilentSince("claw_sensor_silent_minutes")],
        entity_fields=["host", "agent_id"],
        severity="medium", risk_score=50, mitre=["T1562.001"],
        prod_only=False, context_fields=["silent_minutes", "lastTime"],
        cron="*/5 * * * *", interval_minutes=5, lookback_minutes=240, lag_minutes=0, throttle="4h",
        scenarios=["attack-sensor-silent"],
        quiet_in=["benign-node-drain"],
        false_positives="Nodes removed by cluster autoscaling or decommissioned hosts."),
    Detection(
        detection_id="claw_denied_then_allowed",
        title="Denied Then Allowed",
        description="The same image repository was Denied and then, within `claw_denied_then_allowed_minutes` "
                    "(30) minutes, Allowed with another digest in the same namespace: a tag swapped to get "
                    "past policy.",
        fires_on="same namespace and repository, Denied then Allowed with another digest within "
                 "`` `claw_denied_then_allowed_minutes` `` (30); repositories compared normalized by "
                 "`` `claw_normalize_image_ref(1)` `` (below)",
        stages=[Search(["image_attestation"], verdict=("Allowed", "Denied")),
                DeniedThenAllowed("claw_denied_then_allowed_minutes"),
                Aggregate(["namespace", "image_ref", "image_digest"], nullable=["namespace"],
                          values=["denied_digest", "host", "pod"])],
        entity_fields=["namespace", "image_ref", "image_digest"],
        severity="high", risk_score=72, mitre=["T1525", "T1036"],
        context_fields=["denied_digest", "host", "pod"], lookback_minutes=30,
        scenarios=["attack-denied-then-allowed-tag-swap"],
        quiet_in=["benign-rollout-promotion"],
        false_positives="A broken build fixed within minutes under the same tag (fix-forward)."),
)

BY_ID = dict((d.id, d) for d in DETECTIONS)

# The risk incident: one entity, risk from >= 2 different detections within 24 hours.
RISK_INCIDENT = {
    "id": "claw_workload_risk",
    "title": "Workload Risk Threshold",
    "window_hours": 24,
    "min_detections": 2,
    "severity": "high",
    "mitre": ("T1195.002",),
}

# Network context (Network_Traffic data model): not replayed offline.
NETWORK_CONTEXT = {
    "id": "claw_unlisted_library_network_context",
    "title": "Unlisted Library Load With New Outbound Connection",
    "base": "claw_unlisted_library_load",
    "minutes": 15,
    "severity": "critical",
    "risk_score": 90,
    "mitre": ("T1574.006", "T1071"),
}
