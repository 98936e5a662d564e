from django.urls import path

from staff import views

app_name = "staff"
urlpatterns = [
    path("time-zone/", views.time_zone_settings, name="time_zone"),
    path("language/", views.language_settings, name="language"),
    path("digest/", views.digest_settings, name="digest"),
]
