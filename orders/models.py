from django.db import models, transaction


class KnownCustomerToken(models.Model):
    """A customer's order-status token, learnt when staff pasted it (the v1 API never reveals it).

    A cache, not a copy of orders: with it the order page can show the customer's download counts.
    """

    order_number = models.BigIntegerField(unique=True)
    token = models.CharField(max_length=32)
    first_seen = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"#{self.order_number}"

    @classmethod
    def token_for(cls, order_number: int) -> str | None:
        return cls.objects.filter(order_number=order_number).values_list("token", flat=True).first()

    @classmethod
    def remember(cls, *, order_number: int, token: str) -> None:
        with transaction.atomic():
            cls.objects.update_or_create(order_number=order_number, defaults={"token": token})
