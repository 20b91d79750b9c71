"""The event-level stages of a detection (search terms, regexes, thresholds, where clauses)
and the helpers every stage shares; the aggregating and row stages are in ``stages.py``.

Each stage is one SPL fragment (``spl(params)``) and its Python twin (``apply``), as
``stages.py`` describes.
"""
import re

SENTINEL = "-"  # stands in for a null split-by field (Splunk's stats drops null by-values)


def quote(value):
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"')


def values_of(value):
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def mv(values):
    """A field value from a list: missing when empty, a string when single, else a sorted list."""
    values = sorted(set(values))
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class Search(object):
    """The base search: `claw_runtime_index` `claw_runtime_sensor` and ``field=value`` terms (values OR-ed)."""

    def __init__(self, event_types, **terms):
        self.event_types = tuple(event_types)
        self.terms = terms

    def spl(self, params):
        parts = ["`claw_runtime_index`", "`claw_runtime_sensor`"]  # only the sensor's own events
        for field, values in (("event_type", self.event_types),) + tuple(sorted(self.terms.items())):
            values = (values,) if isinstance(values, str) else tuple(values)
            clause = " OR ".join("%s=%s" % (field, quote(v)) for v in values)
            parts.append("(%s)" % clause if len(values) > 1 else clause)
        return " ".join(parts)

    def accept(self, event, params):
        """Whether the base search returns ``event`` (the engine routes by event_type and time)."""
        for field, wanted in self._wanted:
            if (event.get(field) or "").lower() not in wanted:
                return False
        return True

    @property
    def _wanted(self):
        wanted = getattr(self, "_wanted_cache", None)
        if wanted is None:
            wanted = self._wanted_cache = [
                (field, frozenset(v.lower() for v in ((values,) if isinstance(values, str) else values)))
                for field, values in sorted(self.terms.items())]
        return wanted


class Regex(object):
    """``match(coalesce(field, ""), "re")``: the same regex in SPL (PCRE) and Python.

    Prefer patterns without backslashes (``[.]``, ``[0-9]``); a backslash (a
    ``\\x20`` escape both engines read alike) is doubled in the SPL string,
    which SPL reads back as one ("To pass a literal backslash ... use the
    double-slash": https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/search-primer/backslashes).
    """

    def __init__(self, field, pattern):
        if '"' in pattern:
            raise ValueError("keep SPL regexes free of quotes: %r" % pattern)
        self.field, self.pattern, self.regex = field, pattern, re.compile(pattern)

    def spl(self, params):
        return 'match(coalesce(%s, ""), "%s")' % (self.field, self.pattern.replace("\\", "\\\\"))

    def test(self, row, params):
        return self.regex.search(row.get(self.field) or "") is not None


class Not(object):
    def __init__(self, *conds):
        self.conds = conds

    def spl(self, params):
        return "NOT (%s)" % " AND ".join(c.spl(params) for c in self.conds)

    def test(self, row, params):
        return not all(c.test(row, params) for c in self.conds)


class BelowParam(object):
    """``tonumber(field) < `param```: a missing or non-numeric value never passes."""

    def __init__(self, field, param):
        self.field, self.param = field, param

    def spl(self, params):
        return "tonumber(%s) < `%s`" % (self.field, self.param)

    def test(self, row, params):
        value = number(row.get(self.field))
        return value is not None and value < float(params[self.param])


class Where(object):
    """``| where c1 AND c2 ...`` over events or rows."""

    def __init__(self, *conds):
        self.conds = conds

    def spl(self, params):
        return "| where " + " AND ".join(c.spl(params) for c in self.conds)

    def accept(self, row, params):
        for cond in self.conds:
            if not cond.test(row, params):
                return False
        return True

    def apply(self, rows, ctx):
        return [r for r in rows if self.accept(r, ctx.params)]
