from django.urls import path

from sandbox import control, views

urlpatterns = [
    path("api/v1/orders", views.orders),
    path("api/v1/orders/<str:order_id>", views.order_detail),
    path("api/v1/orders/<str:order_id>/attach", views.order_attach),
    path("api/v1/orders/<str:order_id>/detach", views.order_detach),
    path("api/v1/assets", views.assets),
    path("api/v1/products", views.products),
    path("api/v2/customer-account-orders", views.customer_account_orders),
    path("easycart/downloads", views.downloads),
    path("easycart/downloads/<str:download_id>", views.download_detail),
    path("_sandbox/config", control.config),
    path("_sandbox/reset-limits", control.reset_limits),
    path("_sandbox/stats", control.stats),
    path("_sandbox/orders", control.create_order),
    path("_sandbox/orders/<int:order_number>", control.customer),
    path("_sandbox/outbox", control.outbox),
    path("_sandbox/outbox/view/", control.outbox_view),
    path("_sandbox/reseed", control.reseed),
]
