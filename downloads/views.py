"""Download-record pages: being built under issue 6."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def record_list(request: HttpRequest) -> HttpResponse:
    return render(request, "downloads/record_list.html", {})


def record_create(request: HttpRequest) -> HttpResponse:
    return render(request, "downloads/record_list.html", {})


def record_edit(request: HttpRequest, download_id: str) -> HttpResponse:
    return render(request, "downloads/record_list.html", {})


def record_delete(request: HttpRequest, download_id: str) -> HttpResponse:
    return render(request, "downloads/record_list.html", {})


def record_count(request: HttpRequest, download_id: str) -> HttpResponse:
    return render(request, "downloads/record_list.html", {})
