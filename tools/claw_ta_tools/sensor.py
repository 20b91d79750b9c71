"""Which events the claw-runtime sensor wrote: the `claw_runtime_sensor` macro in Python.

A workload can write claw-shaped JSON lines to its own stdout; a log pipeline
that collects more than the sensor's pods would index them as claw events
(forged heartbeats, library loads). Every delivery shape that names the pod
that wrote a line (Fluent Bit's ``kubernetes`` object, the CRI file name:
``sensor_namespace`` / ``sensor_pod`` in claw_ta_tools.normalize) must name the
sensor's namespace and pod name pattern; a journal record (``_SYSTEMD_UNIT``,
set by journald, not by the writer) must come from the sensor's unit.

The values are the site's: macros ``claw_sensor_namespace``,
``claw_sensor_pod`` and ``claw_sensor_unit`` (default/ then local/macros.conf),
so that the replay applies the rule the saved searches apply.
"""
import re

MACROS = {"claw_sensor_namespace": "claw-system", "claw_sensor_pod": "claw-runtime-*",
          "claw_sensor_unit": "claw-runtime.service"}


def _unquote(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def _wildcard(pattern):
    """Splunk search wildcard (``*`` only), case-insensitive, whole value."""
    return re.compile("^%s$" % ".*".join(re.escape(part) for part in pattern.split("*")), re.I | re.S)


class SensorRule(object):
    """``accepts(event)``: whether a normalized event passes `claw_runtime_sensor`."""

    def __init__(self, namespace, pod, unit):
        self.namespace, self.pod, self.unit = namespace, pod, unit
        self._namespace = _wildcard(namespace)
        self._pod = _wildcard(pod)
        self._unit = _wildcard(unit)

    @classmethod
    def from_macros(cls, definitions):
        """From ``{macro name: definition}`` (missing names take the shipped defaults)."""
        values = dict(MACROS)
        values.update((k, _unquote(v)) for k, v in definitions.items() if k in MACROS)
        return cls(values["claw_sensor_namespace"], values["claw_sensor_pod"], values["claw_sensor_unit"])

    def accepts(self, event):
        namespace = event.get("sensor_namespace")
        if namespace is not None:
            pod = event.get("sensor_pod")
            if not self._namespace.match(namespace) or pod is None or not self._pod.match(pod):
                return False
        unit = event.get("_SYSTEMD_UNIT")
        return unit is None or self._unit.match(unit) is not None

    def describe(self):
        return "namespace %s, pod %s, unit %s" % (self.namespace, self.pod, self.unit)
