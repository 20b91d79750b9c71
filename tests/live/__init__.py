"""Live tests against a real Splunk (skipped unless SPLUNK_HOST is set; docs/testing.md)."""
