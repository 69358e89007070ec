/*
 * kpr.c
 *		Module initialisation for kafka_partition_recommender.
 *
 * The library is loaded on first use (CREATE EXTENSION, the FDW validator,
 * or a kpr function); it needs no shared_preload_libraries entry.  Settings
 * of the extension live under the "kpr." prefix, which is reserved here so
 * that a misspelt kpr.* setting is reported instead of silently accepted.
 * Each setting is defined next to the code that reads it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	MarkGUCPrefixReserved("kpr");
}
