from django.db import migrations

from core.trigram import CONTAINS, ICONTAINS, trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0006_messages_as_codes")]

    operations = [
        trigram_indexes(
            "invoicing_invoice",
            [
                ("number", ICONTAINS),
                ("customer_name", ICONTAINS),
                ("customer_name_ar", ICONTAINS),
                ("vehicle_plate", ICONTAINS),
                ("customer_phone", CONTAINS),
                ("customer_vat_number", CONTAINS),
            ],
        )
    ]
