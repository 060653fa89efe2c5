from django.db import migrations, models


class Migration(migrations.Migration):
    """Sequence moves here from garage: the state only, its table and rows stay as they are."""

    initial = True

    # garage_sequence is created by garage's first migration.
    dependencies = [("garage", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Sequence',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=30)),
                        ('year', models.PositiveIntegerField()),
                        ('last_value', models.PositiveIntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'garage_sequence',
                        'constraints': [models.UniqueConstraint(fields=('name', 'year'), name='sequence_unique_name_year')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
