/*
 * url_encode.h
 *		Percent-encoding for a URL's query string: a PromQL query, a
 *		Metrics API page token.  PostgreSQL-free.
 */
#ifndef KPR_URL_ENCODE_H
#define KPR_URL_ENCODE_H

/*
 * Every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper-case hex); malloc'd, or
 * NULL when out of memory.
 */
extern char *kpr_url_encode(const char *text);

#endif							/* KPR_URL_ENCODE_H */
