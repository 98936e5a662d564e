# "7 déc. 2026" (Django's French default spells the month out). Counts: "15 608" (no-break space, Django's).
DATE_FORMAT = "j N Y"
