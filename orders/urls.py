from django.urls import path

from orders import actions, attach_views, reply_views, views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("recheck/", views.order_recheck, name="recheck"),
    path("replies/", reply_views.reply_templates, name="replies"),
    path("<uuid:order_id>/", views.order_detail, name="detail"),
    path("<uuid:order_id>/resend/", actions.order_resend, name="resend"),
    path("<uuid:order_id>/customer-link/", actions.customer_link, name="customer_link"),
    path("<uuid:order_id>/fix-count/", actions.count_fix, name="count_fix"),
    path("<uuid:order_id>/give-back/", actions.suspect_give_back, name="give_back"),
    path("<uuid:order_id>/files/", attach_views.asset_picker, name="assets"),
    path("<uuid:order_id>/attach/", attach_views.order_attach, name="attach"),
    path("<uuid:order_id>/detach/", attach_views.order_detach, name="detach"),
    path("customer/<str:token>/", views.customer_view, name="customer"),
]
