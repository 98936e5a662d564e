"""Our own format modules (settings.FORMAT_MODULE_PATH): only what differs from Django's for a language.

DATE_FORMAT is the date of `|when` and every "8 Jan 2023, 21:50 CET" (fileflare_admin.clock.date_time);
THOUSAND_SEPARATOR groups counts (the `thousands` filter, fileflare_admin.numbers.count). Never
USE_THOUSAND_SEPARATOR: a plain `{{ id }}` in a URL or a form value stays as the API writes it.
"""
