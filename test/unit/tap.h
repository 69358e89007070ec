/*
 * tap.h
 *		The TAP output the standalone unit tests share: one "ok N - ..." or
 *		"not ok N - ..." line per check, then the plan and a summary.
 */
#ifndef KPR_TAP_H
#define KPR_TAP_H

/* Records one check and prints its line; format describes it. */
extern void check(int condition, const char *format,...) __attribute__((format(printf, 2, 3)));

/* Prints the plan and the summary; returns the exit status (1 if any failed). */
extern int	tap_finish(void);

#endif							/* KPR_TAP_H */
