from django.urls import path

from jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.job_new, name="new"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/progress/", views.job_progress, name="progress"),
    path("<int:pk>/run/", views.job_run, name="run"),
    path("<int:pk>/cancel/", views.job_cancel, name="cancel"),
    path("<int:pk>/undo/", views.job_undo, name="undo"),
    path("<int:pk>/result.csv", views.job_csv, name="csv"),
]
