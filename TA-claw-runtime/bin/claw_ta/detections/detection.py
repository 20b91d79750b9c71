"""The shape of one detection: named fields only (``definitions.py`` holds the detections).

Every argument of :class:`Detection` is keyword-only (``*`` in the signature), so a
definition reads as named data, like a security_content detection file, and a
field can be added without re-counting positions. The generator
(``generate.py``: saved searches, macros, the docs table) and the replay
(``engine.py``) both read these attributes.
"""


class Detection(object):
    """One detection, defined once.

    Identity and text: ``detection_id`` (public contract: scenarios and allowlist
    rows use it), ``title`` (the saved search is ``Claw - <title> - Rule``),
    ``description`` (saved search and notable description), ``fires_on`` (the
    docs table's one-line summary, Markdown), ``false_positives``.
    Logic: ``stages`` (claw_ta.detections.stages, in pipeline order; the first is
    the base ``Search``), ``prod_only`` (alerts only where ``claw_namespace_env``
    says ``prod``; elsewhere the results only add risk).
    Alert: ``entity_fields`` (alert = notable fields), ``pin_fields`` (content
    digests that tell two findings on one entity apart: the throttle is on
    ``entity_fields + pin_fields``, and an allowlist row may be pinned to them;
    they are also context fields), ``context_fields`` (carried along), ``severity``, ``risk_score``, ``mitre`` (ATT&CK ids),
    ``throttle``, ``security_domain``.
    Schedule: ``cron``, ``interval_minutes`` (the window), ``lookback_minutes``
    (extra history before it), ``lag_minutes`` (how far behind real time).
    Tests: ``scenarios`` (the folders under scenarios/ whose expected.jsonl names
    this detection) and ``quiet_in`` (benign scenarios with the events it reads
    where it must not fire); tests/test_detection_definitions.py checks both
    lists against the scenario folders.
    """

    def __init__(self, *, detection_id, title, description, fires_on, stages, entity_fields, severity,
                 risk_score, mitre, scenarios, quiet_in=(), prod_only=True, context_fields=(),
                 cron="*/15 * * * *", interval_minutes=15, lookback_minutes=0, lag_minutes=5,
                 throttle="24h", security_domain="endpoint", drilldown_event_types=None,
                 false_positives="", pin_fields=()):
        self.id = detection_id
        self.title = title
        self.description = description
        self.fires_on = fires_on
        self.stages = stages
        self.entity_fields = tuple(entity_fields)
        self.pin_fields = tuple(pin_fields)
        self.severity = severity
        self.risk_score = risk_score
        self.mitre = tuple(mitre)
        self.scenarios = tuple(scenarios)
        self.quiet_in = tuple(quiet_in)
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
    def throttle_fields(self):
        """alert.suppress.fields: one alert per entity and pinned content in the throttle period."""
        return self.entity_fields + tuple(f for f in self.pin_fields if f not in self.entity_fields)

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
