"""A node's labels, as its claw-runtime sensor reports them in ``agent_heartbeat``.

claw-runtime runs as a daemonset; on a Kubernetes node each heartbeat carries
``k8s_node_labels``, the labels of the node the sensor runs on (set by the
cluster's administrators and the node pool, never by a workload). Two things
are read from them:

- the node's service tier (:func:`node_tier`, the label key is the site's:
  ``tier`` by default, e.g. ``cloud.google.com/gke-nodepool`` on GKE);
- the node's platform (:func:`node_platform`): ``kubernetes.io/os`` and
  ``kubernetes.io/arch`` as ``linux/amd64``, the form an OCI image index names
  its platforms in.

The value of ``k8s_node_labels`` may be the parsed object or its JSON text (a
Splunk field, a CSV cell); anything else, or JSON that is not an object of
strings, gives no labels. Texts over :data:`MAX_TEXT` characters are not parsed.
"""
import json
import re

MAX_TEXT = 65536        # the JSON of a node's labels: Kubernetes keeps them far smaller
MAX_VALUE = 256         # a label value longer than this is ignored (Kubernetes allows 63)
PLATFORM_PART = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}\Z")
OS_LABEL, ARCH_LABEL = "kubernetes.io/os", "kubernetes.io/arch"


def parse_labels(value):
    """{key: value} of a labels value (``k8s_node_labels``, ``k8s_labels``: object or JSON text), or None."""
    if isinstance(value, (list, tuple)):  # a multivalue field: the first parsable one
        for item in value:
            found = parse_labels(item)
            if found is not None:
                return found
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("{") or len(text) > MAX_TEXT:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    return dict((k, v) for k, v in value.items() if isinstance(k, str) and isinstance(v, str))


node_labels = parse_labels


def label_value(labels, key):
    """The stripped value of ``key`` in ``labels`` (None when absent, empty or too long)."""
    if not labels:
        return None
    value = labels.get(key)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value and len(value) <= MAX_VALUE else None


def node_tier(value, key="tier"):
    """The node's tier: the value of label ``key`` in a ``k8s_node_labels`` value, or None."""
    return label_value(node_labels(value), key)


def node_platform(value):
    """``os/arch`` (``linux/amd64``) from a ``k8s_node_labels`` value, or None."""
    labels = node_labels(value)
    osname, arch = label_value(labels, OS_LABEL), label_value(labels, ARCH_LABEL)
    if osname is None or arch is None:
        return None
    osname, arch = osname.lower(), arch.lower()
    if not (PLATFORM_PART.match(osname) and PLATFORM_PART.match(arch)):
        return None
    return osname + "/" + arch
