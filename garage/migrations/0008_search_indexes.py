from django.db import migrations

from core.trigram import CONTAINS, ICONTAINS, trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("garage", "0007_job_roles")]

    operations = [
        trigram_indexes("garage_jobcard", [("number", ICONTAINS)]),
        trigram_indexes(
            "garage_customer",
            [("name_en", ICONTAINS), ("name_ar", ICONTAINS), ("phone", CONTAINS),
             ("vat_number", CONTAINS)],
        ),  # fmt: skip
        trigram_indexes(
            "garage_vehicle",
            [("plate_key", ICONTAINS), ("vin", ICONTAINS), ("make", ICONTAINS),
             ("model", ICONTAINS)],
        ),  # fmt: skip
    ]
