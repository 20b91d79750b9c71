"""``claw-ta evaluate SCENARIO_DIR...``: precision and recall of the detections per scenario and in total.

Scores the detections' alerts and the claw_workload_risk incidents (as
``claw-ta replay --risk`` prints them; ``--no-risk`` leaves those out).
Prints one line per scenario (precision, recall, counts) with its missed and
extra alerts, then the total; ``--json`` prints the same as one JSON object.
Exits 1 when the total precision or recall is below ``--min-precision`` /
``--min-recall``, 2 when a scenario cannot be read.
"""
import json
import sys

from claw_ta_tools.detections import engine
from claw_ta_tools.detections.evaluate import score, total
from claw_ta_tools.detections.sampling import add_sampling_arguments, sampler_from_args


def _ratio(text):
    try:
        value = float(text)
    except ValueError:
        raise ValueError("not a number: %r" % text)
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be between 0 and 1: %r" % text)
    return value


def _ratio_arg(text):
    import argparse
    try:
        return _ratio(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error))


def add_arguments(parser):
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO_DIR")
    parser.add_argument("--min-precision", type=_ratio_arg, default=0.0, metavar="P",
                        help="exit 1 if the total precision is below P (0..1)")
    parser.add_argument("--min-recall", type=_ratio_arg, default=0.0, metavar="R",
                        help="exit 1 if the total recall is below R (0..1)")
    parser.add_argument("--no-risk", dest="risk", action="store_false",
                        help="leave claw_workload_risk incidents out (they are scored by default, "
                             "as `claw-ta replay --risk` prints them)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    add_sampling_arguments(parser)


def evaluate(paths, risk=True, sampler_factory=lambda: None):
    """(per-scenario list of {"scenario", ...score}, total, errors)."""
    scores, errors = [], []
    for path in paths:
        try:
            result = engine.replay(path, sampler=sampler_factory())
            expected = result.scenario.expected()
        except engine.ScenarioError as error:
            errors.append(str(error))
            continue
        alerts = list(result.alerts) + (result.incidents() if risk else [])
        entry = {"scenario": result.scenario.name}
        entry.update(score(expected, alerts))
        skipped = result.skipped_summary()  # the same line claw-ta replay prints
        entry["warnings"] = list(result.warnings) + ([skipped] if skipped else [])
        scores.append(entry)
    return scores, total(scores), errors


def _line(obj):
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


def run(args, out=sys.stdout):
    scores, tot, errors = evaluate(args.scenarios, risk=args.risk,
                                   sampler_factory=lambda: sampler_from_args(args))
    for message in errors:
        engine.warn(message)
    if args.json:
        out.write(json.dumps({"scenarios": scores, "total": tot, "errors": errors}, indent=1) + "\n")
    else:
        for s in scores:
            out.write("%-45s precision %.3f  recall %.3f  (alerts %d, expected %d, matched %d)\n"
                      % (s["scenario"], s["precision"], s["recall"], s["alerts"], s["expected"], s["matched"]))
            for alert in s["missed"]:
                out.write("    missed: %s\n" % _line(alert))
            for alert in s["extra"]:
                out.write("    extra:  %s\n" % _line(alert))
            for message in s["warnings"]:
                out.write("    warning: %s\n" % message)
        out.write("%-45s precision %.3f  recall %.3f  (alerts %d, expected %d, matched %d)\n"
                  % ("TOTAL (%d scenarios)" % len(scores), tot["precision"], tot["recall"],
                     tot["alerts"], tot["expected"], tot["matched"]))
    if errors:
        return 2
    if tot["precision"] < args.min_precision or tot["recall"] < args.min_recall:
        engine.warn("below the thresholds: precision %.3f (min %.3f), recall %.3f (min %.3f)"
                    % (tot["precision"], args.min_precision, tot["recall"], args.min_recall))
        return 1
    return 0
