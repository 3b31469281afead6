# Search reads who said a memory and the day it was said, besides its text (memory.search).

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

import memory.core.memories


class Migration(migrations.Migration):

    dependencies = [
        ('memory', '0005_task_paths'),
    ]

    operations = [
        # Postgres cannot change a generated column's expression: drop it (its GIN index goes with
        # it) and add it back, which computes it for every existing row.
        migrations.RemoveIndex(model_name='memory', name='memory_search_gin'),
        migrations.RemoveField(model_name='memory', name='search_vector'),
        migrations.AddField(
            model_name='memory',
            name='search_vector',
            field=models.GeneratedField(db_persist=True, expression=memory.core.memories.MEMORY_SEARCH_VECTOR,
                                        output_field=django.contrib.postgres.search.SearchVectorField()),
        ),
        migrations.AddIndex(
            model_name='memory',
            index=django.contrib.postgres.indexes.GinIndex(fields=['search_vector'], name='memory_search_gin'),
        ),
        # Term rarity comes from ANALYZE's lexeme frequencies (pg_stats.most_common_elems): keep the
        # 10,000 most common lexemes rather than the default 1,000.
        migrations.RunSQL(
            'ALTER TABLE memory_memory ALTER COLUMN search_vector SET STATISTICS 1000',
            'ALTER TABLE memory_memory ALTER COLUMN search_vector SET STATISTICS -1',
        ),
    ]
