from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from fileflare_admin import views
from fileflare_admin.signin import SignInView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="orders:list", permanent=False), name="home"),
    path("accounts/login/", SignInView.as_view(), name="login"),  # warns before a lockout
    path("accounts/", include("django.contrib.auth.urls")),
    path("orders/", include("orders.urls")),
    path("downloads/", include("downloads.urls")),
    path("audit/", include("audit.urls")),
    path("jobs/", include("jobs.urls")),
    path("reports/", include("insights.urls")),
    path("staff/", include("staff.urls")),
    path("status/", views.status, name="status"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
]

handler404 = "fileflare_admin.views.page_not_found"
handler500 = "fileflare_admin.views.server_error"
