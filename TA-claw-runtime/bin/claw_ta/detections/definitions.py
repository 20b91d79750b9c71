"""The detections of TA-claw-runtime, defined once.

Everything a detection decides is here, as data: its stages (selection and the
command it relies on), whether it alerts only in production namespaces, its
entity (= throttle) fields, severity, risk score, MITRE ATT&CK techniques and
schedule. ``generate.py`` writes savedsearches.conf / macros.conf from it and
``engine.py`` replays the very same stages over a scenario directory.

``detection_id`` values are a public contract (scenarios and allowlists use them).
"""
from claw_ta.detections.stages import (Aggregate, BelowParam, DeniedThenAllowed, LookupEquals,
                                       Not, NotSameAttestation, Regex, Search, SbomUnlisted,
                                       SilentSince, TierAnomaly, Where)

# Tunable thresholds: each is a macro (override it in local/macros.conf); the
# replay reads the effective value from the app's macros.conf files.
PARAMS = (
    ("claw_min_slsa_level", 2, "claw_low_slsa_in_prod: Allowed attestations below this SLSA level alert"),
    ("claw_sensor_silent_minutes", 10, "claw_sensor_silent: minutes without a heartbeat before an agent counts as silent"),
    ("claw_denied_then_allowed_minutes", 30, "claw_denied_then_allowed: how long after a denial an Allowed other digest counts"),
)

SEVERITY_LEVELS = {"info": 2, "low": 3, "medium": 4, "high": 5, "critical": 6}

# Libraries mapped from a writable or anonymous place (also as seen through the
# container's overlay rootfs), a memfd, or a file deleted after mapping.
WRITABLE_PATH = ("^(/tmp/|/var/tmp/|/dev/shm/|/memfd:|/proc/self/fd/|/proc/[0-9]+/fd/)"
                 "|/(rootfs|merged)/(tmp|var/tmp|dev/shm)/"
                 "|[(]deleted[)]$")
# Native libraries the JVM's well-known JNI loaders extract to /tmp (snappy-java,
# netty, JNA, sqlite-jdbc, lz4-java, zstd-jni, jansi, conscrypt, rocksdbjni):
# not alerted when, and only when, a java process loads them.
JNI_EXTRACTED = ("^/tmp/([^/]*libsnappyjava[.]so|libnetty_[^/]*[.]so|jna[^/]*/[^/]+"
                 "|[^/]*libsqlitejdbc[.]so|liblz4-java[^/]*[.]so|libzstd-jni[^/]*[.]so"
                 "|[^/]*libjansi[.]so|libconscrypt_[^/]*[.]so|librocksdbjni[^/]*[.]so)$")
JAVA_PROCESS = "(^|/)java$"

ATTESTATIONS = ("binary_attestation", "image_attestation")


class Detection(object):
    """One detection. See the module doc; every attribute is used by both the generator and the replay."""

    def __init__(self, detection_id, title, description, stages, entity_fields, severity,
                 risk_score, mitre, prod_only=True, context_fields=(), cron="*/15 * * * *",
                 interval_minutes=15, lookback_minutes=0, lag_minutes=5, throttle="24h",
                 security_domain="endpoint", drilldown_event_types=None, false_positives=""):
        self.id = detection_id
        self.title = title
        self.description = description
        self.stages = stages
        self.entity_fields = tuple(entity_fields)
        self.severity = severity
        self.risk_score = risk_score
        self.mitre = tuple(mitre)
        self.prod_only = prod_only
        self.context_fields = tuple(context_fields)
        self.cron = cron
        self.interval_minutes = interval_minutes
        self.lookback_minutes = lookback_minutes
        self.lag_minutes = lag_minutes
        self.throttle = throttle
        self.security_domain = security_domain
        self.drilldown_event_types = drilldown_event_types or stages[0].event_types
        self.false_positives = false_positives

    @property
    def filter_macro(self):
        return self.id + "_filter"

    @property
    def search_name(self):
        return "Claw - %s - Rule" % self.title

    @property
    def output_fields(self):
        """Fields an alert carries (entity first): the replay prints them, the search keeps them."""
        seen = []
        for field in self.entity_fields + self.context_fields:
            if field not in seen:
                seen.append(field)
        return tuple(seen)


DETECTIONS = (
    Detection(
        "claw_unlisted_library_load", "Unlisted Library Load",
        "An attested binary loaded a shared library that its SBOM / in-toto links do not list "
        "(clawsbomcheck sbom_status=unlisted): an injected or swapped library.",
        [Search(["library_load"]),
         Aggregate(["event_type", "subject_digest", "library_path", "library_digest", "image_digest",
                    "host", "namespace"], nullable=["library_digest", "image_digest", "namespace"],
                   values=["pod", "subject_name", "image_ref"]),
         SbomUnlisted()],
        ["subject_digest", "library_path", "host", "namespace"], "high", 70,
        ["T1574.006", "T1195.002"],
        context_fields=["library_digest", "image_digest", "image_ref", "pod", "subject_name", "sbom_match",
                        "sbom_ref"],
        false_positives="Libraries an SBOM generator misses (plugins loaded with dlopen, "
                        "JNI libraries extracted at run time): index a fuller SBOM or allowlist them."),
    Detection(
        "claw_attestation_spike_outside_tier", "Attestation Spike Outside Tier",
        "clawtierbaseline mode=detect: an image digest is attested on a host outside its learned "
        "service tiers, or at a rate far above its baseline.",
        [Search(ATTESTATIONS), TierAnomaly()],
        ["image_digest", "host", "tier"], "medium", 40, ["T1610", "T1525"],
        context_fields=["tier_status", "spike_score", "reason", "count"],
        interval_minutes=60, cron="5 * * * *",
        false_positives="A new tier for a service (re-labelled nodes): retrain the baseline."),
    Detection(
        "claw_nonprod_image_in_prod", "Non-Production Image In Production",
        "An Allowed image attestation in a production namespace of an image reference that "
        "claw_image_env marks non-production. Keyed on image_ref, not the digest: the same "
        "digest promoted under a production reference does not alert.",
        [Search(["image_attestation"], verdict="Allowed"),
         Aggregate(["image_digest", "image_ref", "namespace", "host"], nullable=["namespace"],
                   values=["pod"]),
         LookupEquals("claw_image_env", "image_ref", "environment", "image_environment", "nonprod")],
        ["image_digest", "image_ref", "namespace", "host"], "medium", 40, ["T1610", "T1525"],
        context_fields=["pod", "image_environment"],
        false_positives="Debug images deliberately run in production: allowlist the image_ref with an expiry."),
    Detection(
        "claw_manifest_digest_mismatch", "Manifest Digest Mismatch",
        "A running container's image manifest digest differs from the digest attested at deployment, "
        "unless one SBOM / attestation names both digests as its subjects (the per-platform manifest "
        "of an attested multi-arch index).",
        [Search(["manifest_digest_mismatch"]),
         Aggregate(["host", "namespace", "image_ref", "expected_digest", "observed_digest"],
                   nullable=["namespace", "image_ref"], values=["pod", "image_digest"]),
         NotSameAttestation("expected_digest", "observed_digest")],
        ["host", "namespace", "image_ref", "expected_digest", "observed_digest"], "high", 80,
        ["T1525", "T1195.002"], prod_only=False, context_fields=["pod", "image_digest"],
        false_positives="None expected: the runtime already compared attested and running digests."),
    Detection(
        "claw_library_from_writable_path", "Library From Writable Path",
        "A library was mapped from /tmp, /var/tmp, /dev/shm, a memfd or a deleted file (also "
        "through a container's overlay rootfs). JNI libraries that well-known Java loaders extract "
        "to /tmp are not alerted when a java process loads them.",
        [Search(["library_load"]),
         Where(Regex("library_path", WRITABLE_PATH),
               Not(Regex("library_path", JNI_EXTRACTED), Regex("triggering_process_path", JAVA_PROCESS))),
         # library_digest is a group-by field, so an allowlist row pinned to a digest never
         # covers another file at the same path (values() would match any of them).
         Aggregate(["subject_digest", "library_path", "library_digest", "host", "namespace"],
                   nullable=["library_digest", "namespace"],
                   values=["pod", "image_digest", "image_ref", "triggering_process_path"])],
        ["subject_digest", "library_path", "host"], "high", 64, ["T1574.006", "T1620"],
        context_fields=["library_digest", "namespace", "pod", "image_digest", "image_ref",
                        "triggering_process_path"],
        false_positives="Runtimes that extract native code to /tmp (JNI beyond the known loaders, "
                        "Python wheels with native extensions unpacked at run time)."),
    Detection(
        "claw_low_slsa_in_prod", "Low SLSA Level In Production",
        "An Allowed attestation in production whose provenance proves an SLSA build level below "
        "`claw_min_slsa_level` (2).",
        [Search(ATTESTATIONS, verdict="Allowed"),
         Where(BelowParam("slsa_level", "claw_min_slsa_level")),
         Aggregate(["subject_digest", "host", "namespace"], nullable=["namespace"],
                   values=["slsa_level", "subject_name", "pod", "image_digest", "image_ref"])],
        ["subject_digest", "host", "namespace"], "medium", 35, ["T1195.002"],
        context_fields=["slsa_level", "subject_name", "pod", "image_digest", "image_ref"],
        false_positives="Third-party images without provenance admitted by policy exceptions."),
    Detection(
        "claw_sensor_silent", "Sensor Silent",
        "An agent whose heartbeats were seen stopped sending them for more than "
        "`claw_sensor_silent_minutes` (10) minutes by the end of the search window.",
        [Search(["agent_heartbeat"]), Aggregate(["host", "agent_id"]),
         SilentSince("claw_sensor_silent_minutes")],
        ["host", "agent_id"], "medium", 50, ["T1562.001"], prod_only=False,
        context_fields=["silent_minutes", "lastTime"],
        cron="*/5 * * * *", interval_minutes=5, lookback_minutes=240, lag_minutes=0, throttle="4h",
        false_positives="Nodes removed by cluster autoscaling or decommissioned hosts."),
    Detection(
        "claw_denied_then_allowed", "Denied Then Allowed",
        "The same image repository was Denied and then, within `claw_denied_then_allowed_minutes` "
        "(30) minutes, Allowed with another digest in the same namespace: a tag swapped to get "
        "past policy.",
        [Search(["image_attestation"], verdict=("Allowed", "Denied")),
         DeniedThenAllowed("claw_denied_then_allowed_minutes"),
         Aggregate(["namespace", "image_ref", "image_digest"], nullable=["namespace"],
                   values=["denied_digest", "host", "pod"])],
        ["namespace", "image_ref", "image_digest"], "high", 72, ["T1525", "T1036"],
        context_fields=["denied_digest", "host", "pod"], lookback_minutes=30,
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
