"""What the replay skips and why, and what it notes from the sensors' heartbeats.

``claw-ta replay`` prints one line per scenario on stderr (docs/replay.md):
how many events it skipped, per reason (``not_sensor`` with the writers it
saw, ``no_time``, ``malformed``). Heartbeats also give each node's platform
(``claw_node_platform``: the latest heartbeat of the host that names one).
"""
from claw_ta.nodelabels import node_platform

MAX_WRITERS = 20  # distinct writers named in the summary; the others are summed
OTHERS = "(other writers)"
REASONS = ("not_sensor", "no_time", "malformed")


def count_writer(writers, event):
    """Counts the writer of a ``not_sensor`` event in ``writers`` ({description: count})."""
    if event.get("sensor_namespace") is not None:
        writer = "pod %s/%s" % (event.get("sensor_namespace"), event.get("sensor_pod"))
    else:
        writer = "unit %s" % event.get("_SYSTEMD_UNIT")
    if writer not in writers and len(writers) >= MAX_WRITERS:
        writer = OTHERS
    writers[writer] = writers.get(writer, 0) + 1


def summary(stats, writers, sensor):
    """``skipped N of M events: not_sensor=... (writers: ...), no_time=..., malformed=...``, or None."""
    skipped = sum(stats[reason] for reason in REASONS)
    if not skipped:
        return None
    parts = []
    if stats["not_sensor"]:
        named = sorted(writers.items(), key=lambda kv: (kv[0] == OTHERS, -kv[1], kv[0]))
        parts.append("not_sensor=%d (writers: %s; the sensor is %s: if one of these writers is your "
                     "sensor, set the claw_sensor_* macros, docs/data-collection.md)" % (
                         stats["not_sensor"], ", ".join("%s: %d" % kv for kv in named), sensor.describe()))
    parts.extend("%s=%d" % (reason, stats[reason]) for reason in REASONS[1:] if stats[reason])
    return "skipped %d of %d events: %s" % (skipped, stats["events"], ", ".join(parts))


def note_platform(platforms, event, t):
    """Keeps in ``platforms`` (lowercased host -> (time, os/arch)) the host's latest heartbeat's platform."""
    platform = node_platform(event.get("k8s_node_labels"))
    host = event.get("dest") or event.get("host")
    if platform is None or not isinstance(host, str):
        return
    key = host.lower()
    seen = platforms.get(key)
    if seen is None or t >= seen[0]:
        platforms[key] = (t, platform)
