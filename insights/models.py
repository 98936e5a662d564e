from django.conf import settings
from django.db import models


class DigestSent(models.Model):
    """One person's daily digest of one day (their own day, in their time zone): the row is claimed before
    the e-mail is sent, and its uniqueness is what sends it once however many workers find it due
    (insights.digest). `sent_at` is null while the claimed e-mail is being built and sent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.CharField(max_length=254, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_a_day")]

    def __str__(self) -> str:
        return f"digest of {self.day} for user {self.user_id}"
