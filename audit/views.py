"""The audit log pages: being built under issue 7."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def audit_list(request: HttpRequest) -> HttpResponse:
    return render(request, "audit/audit_list.html", {})


def audit_undo(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "audit/audit_list.html", {})
