"""claw_ta.conffile: .conf files read as Splunk reads them (stanzas, comments, continued values).

https://docs.splunk.com/Documentation/Splunk/latest/Admin/Howtoeditaconfigurationfile
"""
import pytest

from claw_ta import app_version, conffile


def test_stanzas_keys_comments_and_continued_values(tmp_path):
    path = tmp_path / "x.conf"
    path.write_text("top = 1\n# comment\n[a]\nkey = v = w\nmulti = one \\\n  two\n\n[b]\n  spaced  =  x  \n")
    parsed = conffile.parse(str(path))
    assert list(parsed) == ["default", "a", "b"]
    assert parsed["default"] == {"top": "1"}
    assert parsed["a"] == {"key": "v = w", "multi": "one \ntwo"}
    assert parsed["b"] == {"spaced": "x"}


def test_a_line_that_is_not_conf_is_named(tmp_path):
    path = tmp_path / "bad.conf"
    path.write_text("[a]\nnot a setting\n")
    with pytest.raises(ValueError, match=r"bad.conf:2"):
        conffile.parse(str(path))


def test_app_version_reads_the_launcher_stanza(tmp_path):
    (tmp_path / "default").mkdir()
    (tmp_path / "default" / "app.conf").write_text("[id]\nversion = 9.9.9\n[launcher]\nversion = 1.2.3\n")
    assert app_version(str(tmp_path)) == "1.2.3"
    (tmp_path / "default" / "app.conf").write_text("[id]\nversion = 9.9.9\n")
    with pytest.raises(RuntimeError, match="no \\[launcher\\] version"):
        app_version(str(tmp_path))
