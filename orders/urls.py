from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("<uuid:order_id>/", views.order_detail, name="detail"),
    path("<uuid:order_id>/resend/", views.order_resend, name="resend"),
    path("customer/<str:token>/", views.customer_view, name="customer"),
]
