from django.urls import path, re_path

from sandbox import app_pages, control, customer, downloads, fileflare
from sandbox.laravel import route_not_found
from sandbox.wordpress import no_route

urlpatterns = [
    path("", control.index),
    path("api/v1/orders", fileflare.orders),
    path("api/v1/orders/<str:order_id>", fileflare.order_detail),
    path("api/v1/orders/<str:order_id>/attach", fileflare.order_attach),
    path("api/v1/orders/<str:order_id>/detach", fileflare.order_detach),
    path("api/v1/assets", fileflare.assets),
    path("api/v1/products", fileflare.products),
    path("api/v2/customer-account-orders", customer.customer_account_orders),
    re_path(r"^api/", route_not_found),
    # Fileflare's own app: the order page "Open in Fileflare" leads to (by ID or number)
    re_path(r"^orders/(?P<reference>[^/]+)/?$", app_pages.order_page),
    path("easycart/downloads", downloads.downloads),
    re_path(r"^easycart/downloads/(?P<download_id>[0-9a-zA-Z]+)$", downloads.download_detail),
    re_path(r"^easycart(?:/|$)", no_route),  # WordPress's answer under its REST namespace
    path("_sandbox/config", control.config),
    path("_sandbox/reset-limits", control.reset_limits),
    path("_sandbox/stats", control.stats),
    path("_sandbox/orders", control.create_order),
    path("_sandbox/orders/<int:order_number>", control.customer),
    path("_sandbox/customer/<str:token>/", customer.customer_page),
    path("_sandbox/customer/<str:token>/download/<str:kind>/<int:link_id>/", customer.customer_download),
    path("_sandbox/outbox", control.outbox),
    path("_sandbox/outbox/view/", control.outbox_view),
    path("_sandbox/reseed", control.reseed),
    path("_sandbox/trickle", control.trickle),
    path("_sandbox/trickle/forget", control.trickle_forget),
    path("_sandbox/download-events", control.download_events),
]
