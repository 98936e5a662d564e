"""Download counts, the one rule every app shares: a count moves down to 0 and no further.

In the ground app because Support's count range (staff.roles), the diagnosis, the fixes and bulk plans
all lower counts, and staff sits below downloads.
"""


def count_lowered(count: int, *, by: int | None) -> int:
    """`count` lowered by `by`, never below 0; `by=None` (no limit on the step) lowers it to 0."""
    return 0 if by is None else max(count - by, 0)
