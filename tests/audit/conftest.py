# The downloads tests' helpers for making and reading records at the sandbox serve here too, and the
# browser tests' real Chromium for the audit log's browser test.
from tests.browser.conftest import browser, page  # noqa: F401
from tests.downloads.conftest import downloads_api, make_record, order_number  # noqa: F401
