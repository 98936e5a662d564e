# "7 dic 2026" (Django's Italian default: "07 Dicembre 2026").
DATE_FORMAT = "j b Y"
# "1 536 ordini": a no-break space groups thousands, as in French (Django's Italian default is "1.536";
# a count typed either way is accepted: fileflare_admin.numbers.LocalizedIntegerField).
THOUSAND_SEPARATOR = "\xa0"
