"""The sandbox's own data: a shop's orders, products, assets and download records, and sent e-mails."""

import secrets
import uuid

from django.db import models, router, transaction


class Product(models.Model):
    """One row per variant, as Fileflare's /v1/products lists them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=20000)
    variant_name = models.CharField(max_length=20000, null=True, blank=True)
    sku = models.CharField(max_length=20000, blank=True)
    product_id = models.BigIntegerField()
    variant_id = models.BigIntegerField()
    vendor = models.CharField(max_length=20000, blank=True)
    tags = models.JSONField(default=list)

    def as_json(self) -> dict:
        return {
            "id": str(self.id),
            "name": self.name,
            "variant_name": self.variant_name,
            "sku": self.sku,
            "product_id": self.product_id,
            "variant_id": self.variant_id,
            "vendor": self.vendor,
            "tags": list(self.tags),
        }


class Asset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    filename = models.CharField(max_length=20000)
    size = models.CharField(max_length=32)
    is_file = models.BooleanField(default=True)
    url = models.CharField(max_length=20000, null=True, blank=True)

    def as_json(self) -> dict:
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "is_file": self.is_file,
            "is_link": not self.is_file,
            "url": self.url,
        }


def new_customer_token() -> str:
    return secrets.token_hex(16)


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    order_number = models.BigIntegerField(unique=True)
    ordered_at = models.DateTimeField()
    email_sent_at = models.DateTimeField(null=True, blank=True)
    customer_token = models.CharField(max_length=32, unique=True, default=new_customer_token)
    customer_email = models.CharField(max_length=254)
    text_title = models.CharField(max_length=20000, default="Download files for your orders")
    text_text = models.TextField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["-ordered_at"])]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]


class LineAsset(models.Model):
    """An asset the customer gets through a product of the order, with their download limit."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="line_assets")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT)
    downloaded = models.PositiveIntegerField(default=0)
    limit = models.PositiveIntegerField(null=True, blank=True)  # null: unlimited

    class Meta:
        ordering = ["pk"]


class OrderAsset(models.Model):
    """An asset attached to the order itself (not through its products)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="order_assets")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT)
    downloaded = models.PositiveIntegerField(default=0)
    limit = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["order", "asset"], name="one_attachment_per_asset")]


class DownloadRecord(models.Model):
    """A row of WP EasyCart's `ec_download` table, columns named as there (the S3 flag is
    `is_amazon_download`; the document's DownloadItem calls it `is_amazon`). The integers are MySQL
    int(11): the API refuses values outside 1..2,147,483,647 (counts from 0)."""

    download_id = models.CharField(primary_key=True, max_length=64)
    date_created = models.DateTimeField()
    product_id = models.BigIntegerField(default=0)
    order_id = models.BigIntegerField(default=0, db_index=True)
    download_count = models.BigIntegerField(default=0)
    download_file_name = models.CharField(max_length=20000, blank=True)
    is_amazon_download = models.BooleanField(default=False)
    amazon_key = models.CharField(max_length=20000, blank=True)


class OutboxMessage(models.Model):
    """A download e-mail the sandbox "sent": nothing leaves the machine."""

    sent_at = models.DateTimeField(auto_now_add=True)
    order_number = models.BigIntegerField()
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=500)
    body = models.TextField()

    class Meta:
        ordering = ["-sent_at", "-pk"]


class DownloadEvent(models.Model):
    """One download the sandbox performed (or refused at the limit): the ground truth that the dashboard's
    figures, made from snapshots of counts, are checked against. Written by every download the sandbox
    makes: the customer's page (`kind` "customer") and the trickle (`sandbox.trickle`: customers, and
    link scanners right after an e-mail, `kind` "scanner"). `download_id` is the record it counted on
    (None when the file has no record and its own counter moved); `refused`: the limit was reached, and
    nothing was counted."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer"
        SCANNER = "scanner"

    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    order_number = models.BigIntegerField(db_index=True)
    download_id = models.CharField(max_length=64, null=True, blank=True)
    product_id = models.BigIntegerField(null=True, blank=True)  # the record's (the store's product number)
    file_name = models.CharField(max_length=20000)
    asset_id = models.UUIDField()
    refused = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "pk"]

    def as_json(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "order_number": self.order_number,
            "download_id": self.download_id,
            "product_id": self.product_id,
            "file_name": self.file_name,
            "asset_id": str(self.asset_id),
            "refused": self.refused,
        }


def atomic() -> transaction.Atomic:
    """A transaction on whichever database holds the sandbox's tables: its own process's only database,
    or the sandbox alias when it runs inside the test process (tests/support/inprocess.py)."""
    return transaction.atomic(using=router.db_for_write(Order))
