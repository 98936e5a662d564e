"""A worker compiles its templates before its first request (fileflare_admin.warmup, issue 28)."""

from django.template import engines

from fileflare_admin import warmup


def test_a_worker_compiles_every_template_of_the_project_before_its_first_request() -> None:
    loader = engines["django"].engine.template_loaders[0]  # the cached loader, which keeps them
    loader.reset()
    warmup.warm()
    names = set(warmup.template_names())
    assert {"base.html", "orders/order_detail.html", "downloads/_record_row.html"} <= names
    assert not any("site-packages" in name or name.startswith("admin/") for name in names)
    assert names <= set(loader.get_template_cache)


def test_the_wsgi_application_is_warmed_when_it_is_loaded() -> None:
    import importlib

    import fileflare_admin.wsgi

    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    importlib.reload(fileflare_admin.wsgi)
    assert "orders/order_detail.html" in loader.get_template_cache
