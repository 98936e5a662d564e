# "8 Jan 2023" (Django's English default is "Jan. 8, 2023").
DATE_FORMAT = "j M Y"
