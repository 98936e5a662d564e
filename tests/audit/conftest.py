# The downloads tests' helpers for making and reading records at the sandbox serve here too.
# (The audit log's browser test lives in tests/browser/test_audit_log.py, beside the one Chromium.)
from tests.downloads.conftest import downloads_api, make_record, order_number  # noqa: F401
