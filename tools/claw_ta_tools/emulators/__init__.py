"""Stand-ins for Splunk that the tests and benchmarks run the app against (no Splunk needed).

- ``props_emulator``: props.conf / transforms.conf applied to raw events as
  Splunk's parsing and search-time extraction would, with ``spl_eval`` (a small
  SPL ``eval`` interpreter that refuses functions it does not know) for
  EVAL- fields, ``auto_kv_json`` for KV_MODE=json up to limits.conf
  ``[spath] extraction_cutoff``, and ``pcre2`` (the system's PCRE2 through
  ctypes) to run index-time regexes under Splunk's backtracking depth limit;
- ``spl_lint``, ``spl_fields``, ``search_rules``, ``app_content``: the app's
  searches read and checked offline (unknown commands, macros, fields, the
  detection rules of the saved searches and dashboards);
- ``scp_driver`` (with ``scp_csv``, its CSV dialect): splunkd's side of the
  chunked search command protocol (SCP v2), running a command script as a
  subprocess.

Each emulated behaviour cites the Splunk documentation (or recorded traffic) it
follows; where they disagree, the documentation wins. Their own tests are
``tests/test_props_*.py``, ``tests/test_spl_lint.py``, ``tests/test_scp_driver.py``
and ``tests/test_content_integrity.py``.

Beside them: ``interpreters.splunk_pythons()`` (the Pythons Splunk runs commands
with) and ``PASSTHROUGH``, a plain splunklib streaming command that passes
records through, the baseline the protocol tests and benchmarks compare with.
"""
import os

PASSTHROUGH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "passthrough.py")
