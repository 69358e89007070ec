/*
 * partition_traffic.c
 *		The per-partition traffic table of kpr.fetch_partition_metrics (see
 *		partition_traffic.h).
 */
#include "postgres.h"

#include <math.h>

#include "utils/hsearch.h"

#include "kpr_time.h"
#include "partition_traffic.h"

/* Kafka topic names are at most 249 bytes */
#define TOPIC_KEY_SIZE	256

typedef struct PartitionEntry
{
	char		topic[TOPIC_KEY_SIZE];	/* hash key */
	int			partitions;
	/* [(measure * days + day) * partitions + partition]; NAN: not reported */
	double	   *values;
} PartitionEntry;

struct KprPartitionTable
{
	KprMetricsWindow window;
	bool		provides_bytes;
	int64		ignored;
	HTAB	   *topics;
	char	  **names;			/* sorted, for the rows */
	int			name_count;
};

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

KprPartitionTable *
kpr_partition_table_create(const KprMetricsWindow *window, char **topics,
						   const int *partition_counts, int topic_count)
{
	KprPartitionTable *table = palloc0(sizeof(KprPartitionTable));
	HASHCTL		control = {0};

	table->window = *window;
	control.keysize = TOPIC_KEY_SIZE;
	control.entrysize = sizeof(PartitionEntry);
	control.hcxt = CurrentMemoryContext;
	table->topics = hash_create("kpr partition traffic", Max(topic_count, 16), &control,
								HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	table->names = palloc(sizeof(char *) * Max(topic_count, 1));
	for (int i = 0; i < topic_count; i++)
	{
		char		key[TOPIC_KEY_SIZE] = {0};
		PartitionEntry *entry;
		bool		found;
		Size		count;

		if (strlen(topics[i]) >= TOPIC_KEY_SIZE)
			continue;
		strlcpy(key, topics[i], sizeof(key));
		entry = hash_search(table->topics, key, HASH_ENTER, &found);
		if (found)
			continue;
		entry->partitions = Max(partition_counts[i], 0);
		count = (Size) KPR_PARTITION_MEASURE_COUNT * window->days * entry->partitions;
		entry->values = count > 0 ? palloc_extended(sizeof(double) * count, MCXT_ALLOC_HUGE) : NULL;
		for (Size v = 0; v < count; v++)
			entry->values[v] = NAN;
		table->names[table->name_count++] = entry->topic;
	}
	qsort(table->names, table->name_count, sizeof(char *), compare_names);
	return table;
}

static PartitionEntry *
find_entry(KprPartitionTable *table, const char *topic)
{
	char		key[TOPIC_KEY_SIZE] = {0};

	if (strlen(topic) >= TOPIC_KEY_SIZE)
		return NULL;
	strlcpy(key, topic, sizeof(key));
	return hash_search(table->topics, key, HASH_FIND, NULL);
}

int
kpr_partition_count(KprPartitionTable *table, const char *topic)
{
	PartitionEntry *entry = find_entry(table, topic);

	return entry ? entry->partitions : -1;
}

static double *
slot(const KprPartitionTable *table, const PartitionEntry *entry, KprPartitionMeasure measure,
	 int day, int partition)
{
	return &entry->values[((Size) measure * table->window.days + day) * entry->partitions + partition];
}

void
kpr_partition_set(KprPartitionTable *table, const char *topic, int32 partition,
				  int64 time_ms, KprPartitionMeasure measure, double value)
{
	PartitionEntry *entry;
	int64		day;

	if (time_ms < table->window.first_day_ms)
		return;
	day = (time_ms - table->window.first_day_ms) / KPR_MS_PER_DAY;
	if (day >= table->window.days)
		return;
	entry = find_entry(table, topic);
	if (entry == NULL || partition < 0 || partition >= entry->partitions)
	{
		table->ignored++;
		return;
	}
	*slot(table, entry, measure, (int) day, partition) = value;
}

void
kpr_partition_provides_bytes(KprPartitionTable *table)
{
	table->provides_bytes = true;
}

int64
kpr_partition_ignored(KprPartitionTable *table)
{
	return table->ignored;
}

/* Does the topic have a value on that day, and how many records in all? */
static bool
day_reported(const KprPartitionTable *table, const PartitionEntry *entry, int day,
			 double *records)
{
	bool		reported = false;

	*records = 0;
	for (int p = 0; p < entry->partitions; p++)
		for (int m = 0; m < KPR_PARTITION_MEASURE_COUNT; m++)
		{
			double		value = *slot(table, entry, m, day, p);

			if (isnan(value))
				continue;
			reported = true;
			if (m == KPR_PARTITION_RECORDS)
				*records += value;
		}
	return reported;
}

void
kpr_partition_send_rows(KprPartitionTable *table, bool absent_is_zero, int64 min_records)
{
	for (int i = 0; i < table->name_count; i++)
	{
		PartitionEntry *entry = find_entry(table, table->names[i]);
		double		busiest = 0;

		for (int day = 0; day < table->window.days; day++)
		{
			double		records;

			if (day_reported(table, entry, day, &records))
				busiest = Max(busiest, records);
		}
		if (busiest < (double) min_records)
			continue;

		for (int day = 0; day < table->window.days; day++)
		{
			char	   *day_text;
			double		unused;

			if (!day_reported(table, entry, day, &unused))
				continue;
			day_text = kpr_day_text(table->window.first_day_ms + day * KPR_MS_PER_DAY);
			for (int p = 0; p < entry->partitions; p++)
			{
				double		records = *slot(table, entry, KPR_PARTITION_RECORDS, day, p);
				double		bytes = *slot(table, entry, KPR_PARTITION_BYTES, day, p);
				char		partition_text[16];
				char		records_text[32];
				char		bytes_text[32];
				const char *values[5];

				if (isnan(records) && isnan(bytes) && !absent_is_zero)
					continue;
				snprintf(partition_text, sizeof(partition_text), "%d", p);
				snprintf(records_text, sizeof(records_text), "%.0f", rint(isnan(records) ? 0 : records));
				snprintf(bytes_text, sizeof(bytes_text), "%.0f", rint(isnan(bytes) ? 0 : bytes));
				values[0] = entry->topic;
				values[1] = day_text;
				values[2] = partition_text;
				values[3] = isnan(records) && !absent_is_zero ? NULL : records_text;
				values[4] = !table->provides_bytes || (isnan(bytes) && !absent_is_zero) ? NULL :
					bytes_text;
				kpr_worker_send_row(5, values);
			}
		}
	}
}
