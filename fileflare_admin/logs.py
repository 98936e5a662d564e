"""How the log tells what happened: a refusal is one line, a failure keeps its traceback."""

from __future__ import annotations

import logging


class RefusalsInOneLine(logging.Filter):
    """Django logs a 403 (a person asking for what their role does not allow: staff.roles.NotAllowed,
    a PermissionDenied) with the exception's traceback. A refusal is expected, not a fault: its line
    ("Forbidden (Permission denied): /jobs/") is kept and the traceback dropped, so the log's
    tracebacks are the failures'."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
