from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("", views.report_page, name="page"),
    path("<slug:name>.csv", views.figure_csv, name="csv"),
    path("<slug:name>.svg", views.figure_svg, name="chart"),
]
