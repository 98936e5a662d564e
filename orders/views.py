"""Orders pages: being built under issue 5."""

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def order_list(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/order_list.html", {})


def order_detail(request: HttpRequest, order_id: UUID) -> HttpResponse:
    return render(request, "orders/order_list.html", {})


def order_resend(request: HttpRequest, order_id: UUID) -> HttpResponse:
    return render(request, "orders/order_list.html", {})


def customer_view(request: HttpRequest, token: str) -> HttpResponse:
    return render(request, "orders/order_list.html", {})
