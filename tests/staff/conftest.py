# The downloads tests' helpers for making and reading records at the sandbox serve here too.
from tests.downloads.conftest import downloads_api, make_record, order_number  # noqa: F401
