from django.urls import path

from downloads import row_views, views

app_name = "downloads"
urlpatterns = [
    path("", views.record_list, name="list"),
    path("new/", views.record_create, name="create"),
    path("<str:download_id>/edit/", views.record_edit, name="edit"),
    path("<str:download_id>/delete/", views.record_delete, name="delete"),
    path("<str:download_id>/count/", row_views.record_count, name="count"),
]
