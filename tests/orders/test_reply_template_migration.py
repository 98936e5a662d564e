"""Issue 30.3: reply templates a shop wrote before languages become its English ones."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("orders", "0003_need_status_link_reply")]
AFTER = [("orders", "0004_reply_templates_per_language")]


@pytest.mark.django_db(transaction=True)
def test_a_template_saved_before_languages_becomes_the_english_one() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps.get_model("orders", "ReplyTemplate")
        old.objects.create(situation="ready", body="Hi! {order_number}\n{files}")
        executor.loader.build_graph()
        executor.migrate(AFTER)
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    from orders.models import ReplyTemplate

    assert list(ReplyTemplate.objects.values_list("situation", "language", "body")) == [
        ("ready", "en", "Hi! {order_number}\n{files}")
    ]
    # A French wording of the same situation can now be kept beside it.
    ReplyTemplate.objects.create(situation="ready", language="fr", body="Bonjour ! {order_number}")
    assert ReplyTemplate.objects.count() == 2
