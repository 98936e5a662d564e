"""The fields every chain's row carries (see background.chain): the order sync's and each bulk job's."""

from __future__ import annotations

from django.db import models


class ChainRow(models.Model):
    """A row that drives a chain of short tasks: the one queued step, when it is due, a running step's
    lease. Only background.chain writes these fields."""

    step_token = models.CharField(max_length=32, blank=True)
    step_due_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
