from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class KnownCustomerToken(models.Model):
    """A customer's order-status token, learnt when staff pasted it (the v1 API never reveals it).

    A cache, not a copy of orders: with it the order page can show the customer's download counts.
    `status_url` is the link as pasted, cut after the token (no `/authenticate?key=…`), when a whole
    link was pasted.
    """

    order_number = models.BigIntegerField(unique=True)
    token = models.CharField(max_length=32, db_index=True)
    status_url = models.URLField(max_length=500, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"#{self.order_number}"

    @classmethod
    def token_for(cls, order_number: int) -> str | None:
        return cls.objects.filter(order_number=order_number).values_list("token", flat=True).first()

    @classmethod
    def link_for(cls, order_number: int) -> tuple[str, str] | None:
        """(token, status_url) of this order, status_url blank when only the token was pasted."""
        row = cls.objects.filter(order_number=order_number).values_list("token", "status_url").first()
        return (row[0], row[1]) if row else None

    @classmethod
    def any_status_url(cls) -> str:
        """A status link pasted for any order of this shop (they all share one form), or ""."""
        return (
            cls.objects.exclude(status_url="").order_by("-pk").values_list("status_url", flat=True).first()
            or ""
        )

    @classmethod
    def remember(cls, *, order_number: int, token: str, status_url: str = "") -> None:
        defaults = {"token": token, **({"status_url": status_url} if status_url else {})}
        with transaction.atomic():
            cls.objects.update_or_create(order_number=order_number, defaults=defaults)


class ReplyTemplate(models.Model):
    """The shop's own wording of one support reply in one language (orders.reply_text's default in that
    language until edited). A reply goes to a customer, so it is kept per language: editing the French
    one changes French replies only. The rows from before languages are the English ones.

    Editing one is audited (orders.replies); the row keeps only the current text."""

    class Situation(models.TextChoices):
        READY = "ready", _("The customer can download")
        DOWNLOADS_RESET = "downloads_reset", _("Downloads were reset")
        FILES_ATTACHED = "files_attached", _("Files were attached")
        EMAIL_RESENT = "email_resent", _("The e-mail was sent again")
        BLOCKED = "blocked", _("Still blocked: we are on it")
        NEED_STATUS_LINK = "need_status_link", _("Asking for the order-status link")

    situation = models.CharField(max_length=32, choices=Situation.choices)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["situation", "language"], name="orders_reply_one_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.get_situation_display()} ({self.language})"
