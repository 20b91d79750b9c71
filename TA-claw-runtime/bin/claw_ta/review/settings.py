"""Site settings of the review endpoint, kept where the add-on keeps its other site settings: a macro.

``[claw_review_second_reviewer_for]`` in macros.conf (default, then local: an
admin sets it in Settings > Advanced search > Search macros, or in
local/macros.conf), ``definition = second_reviewer_for="<list>"``: the proposed
changes (``change.action``) whose ``approve`` needs a second reviewer (another
user) before it is in force, e.g. ``quarantine_image``. Empty by default.

A bad value refuses decisions (the site asked for a second reviewer: a typo
must not silently drop that) with a message naming the setting.
"""
import os
import re

from claw_ta import APP_DIR, conffile
from claw_ta.feedback.proposal import CHANGE_ACTIONS

MACRO = "claw_review_second_reviewer_for"
VALUE_RE = re.compile(r'^\s*second_reviewer_for\s*=\s*"([^"]*)"\s*$')


class SettingsError(ValueError):
    pass


def load(app_dir=APP_DIR):
    """{"second_reviewer_for": frozenset of change actions}; SettingsError on a bad value."""
    definition = None
    for layer in ("default", "local"):
        path = os.path.join(app_dir, layer, "macros.conf")
        if os.path.isfile(path):
            try:
                stanza = conffile.parse(path).get(MACRO, {})
            except (OSError, ValueError) as err:
                raise SettingsError("%s/macros.conf: %s" % (layer, err))
            definition = stanza.get("definition", definition)
    if definition is None:
        return {"second_reviewer_for": frozenset()}
    match = VALUE_RE.match(definition)
    if not match:
        raise SettingsError('macro %s: expected second_reviewer_for="<changes, comma-separated>", got %r'
                            % (MACRO, definition))
    names = [n.strip() for n in match.group(1).split(",") if n.strip()]
    unknown = [n for n in names if n not in CHANGE_ACTIONS]
    if unknown:
        raise SettingsError("macro %s: unknown change %r (expected %s)"
                            % (MACRO, unknown[0], ", ".join(CHANGE_ACTIONS)))
    return {"second_reviewer_for": frozenset(names)}
