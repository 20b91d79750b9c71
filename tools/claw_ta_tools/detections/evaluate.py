"""Scoring replayed alerts against a scenario's expected.jsonl (the scenario format's rules).

An expected line matches an alert when ``detection_id`` is equal and every
other field of the expected line equals the alert's field of that name (a
list in the alert matches a single expected value it contains). Each alert
and each expected line is matched at most once. Precision = alerts matched /
alerts raised (1.0 when none were raised); recall = expected lines matched /
expected lines (1.0 when none were expected).
"""


def _equal(expected, actual):
    if expected == actual:
        return True
    if isinstance(actual, list) and not isinstance(expected, list):
        return expected in actual
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            return float(actual) == float(expected)
        except (TypeError, ValueError):
            return False
    return False


def matches(expected, alert):
    return all(_equal(value, alert.get(key)) for key, value in expected.items())


def score(expected, alerts):
    """{"matched", "alerts", "expected", "precision", "recall", "missed", "extra"} for one scenario."""
    used = [False] * len(alerts)
    missed = []
    matched = 0
    # Most specific expectations first, so that a general line cannot take the alert a specific one needs.
    order = sorted(range(len(expected)), key=lambda i: -len(expected[i]))
    for i in order:
        for j, alert in enumerate(alerts):
            if not used[j] and matches(expected[i], alert):
                used[j] = True
                matched += 1
                break
        else:
            missed.append(expected[i])
    extra = [alert for j, alert in enumerate(alerts) if not used[j]]
    return {
        "alerts": len(alerts), "expected": len(expected), "matched": matched,
        "precision": (len(alerts) - len(extra)) / float(len(alerts)) if alerts else 1.0,
        "recall": matched / float(len(expected)) if expected else 1.0,
        "missed": missed, "extra": extra,
    }


def total(scores):
    alerts = sum(s["alerts"] for s in scores)
    expected = sum(s["expected"] for s in scores)
    hits = sum(s["alerts"] - len(s["extra"]) for s in scores)
    matched = sum(s["matched"] for s in scores)
    return {"alerts": alerts, "expected": expected, "matched": matched,
            "precision": hits / float(alerts) if alerts else 1.0,
            "recall": matched / float(expected) if expected else 1.0}
