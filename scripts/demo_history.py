#!/usr/bin/env python3
"""The demo's traffic: 35 days of Kafka exporter series for Prometheus.

usage: demo_history.py --openmetrics OUT.om [--days 35] [--today YYYY-MM-DD]

Writes an OpenMetrics file for `promtool tsdb create-blocks-from openmetrics`
holding what the JMX exporter reports for the demo cluster's topics (the
topics of test/fixtures/kafka_mock/demo.spec): per topic the counters
kafka_server_brokertopicmetrics_{bytesin,bytesout,messagesin}_total, and for
one topic each partition's log-end offset gauge kafka_log_log_logendoffset,
one sample every 5 minutes from the midnight DAYS days before TODAY (default:
the UTC date now) to TODAY's midnight.

Each topic's traffic is TOPICS below: a peak-hour rate on the first day that
grows (or shrinks) by a fixed amount each day, a daily cycle whose busiest
hour is 19:00 UTC, records of a fixed size, and consumer groups that each
read everything. A day's peak, the figure the recommendation sizes from, is
therefore its 19:00 rate: level + growth x day, exactly, where day counts
from the first day of the window. Optional: a spike (one hour of one day at
a multiple of the rate), per-day noise of a fixed pattern, and a busiest partition's share.

Python 3 standard library only.
"""
import argparse
import datetime
import math
import sys

MIB = 1024 * 1024
KIB = 1024
STEP_S = 300                     # one sample every 5 minutes
PEAK_HOUR = 19                   # the daily cycle's busiest hour, UTC
INSTANCE = 'instance="broker-1:7071",job="kafka"'

# name: level (peak-hour bytes/s on the window's first day), growth (bytes/s
# a day), trough (the quietest hour's rate as a share of the peak hour's),
# record_bytes, groups (consumer groups reading it), and the options above.
TOPICS = {
    # grows 200 KiB/s a day: 10 MiB/s at day 0, 16.6 MiB/s yesterday (day 34 of 35)
    "orders.created": dict(level=10 * MIB, growth=200 * KIB, trough=0.3, record_bytes=480, groups=3),
    "orders.shipped": dict(level=6 * MIB, growth=0, trough=0.3, record_bytes=350, groups=2),
    # flat at 2 MiB/s, but three days ago at 19:00 six times that for an hour
    "payments.authorized": dict(level=2 * MIB, growth=0, trough=0.2, record_bytes=900, groups=3,
                                spike=(3, PEAK_HOUR, 6)),
    "payments.settled": dict(level=3 * MIB, growth=0, trough=0.2, record_bytes=700, groups=2),
    # partition 0 takes 40% of the records, the other 7 share the rest
    "clickstream.raw": dict(level=20 * MIB, growth=50 * KIB, trough=0.1, record_bytes=120, groups=2,
                            busiest=(0, 0.40)),
    "clickstream.sessions": dict(level=4 * MIB, growth=0, trough=0.1, record_bytes=600, groups=1),
    "inventory.updates": dict(level=5 * MIB, growth=0, trough=0.5, record_bytes=250, groups=2),
    "inventory.snapshots": dict(level=1 * MIB, growth=0, trough=0.9, record_bytes=20000, groups=1),
    "customer.profile": dict(level=512 * KIB, growth=0, trough=0.4, record_bytes=1500, groups=3),
    # flat at 17 MiB/s with day-to-day variation of up to 5%
    "customer.events": dict(level=17 * MIB, growth=0, trough=0.3, record_bytes=800, groups=2, noise=0.05),
    # grows 300 KiB/s a day: 4 MiB/s at day 0, 14 MiB/s yesterday
    "search.queries": dict(level=4 * MIB, growth=300 * KIB, trough=0.2, record_bytes=300, groups=1),
    "search.results": dict(level=6 * MIB, growth=50 * KIB, trough=0.2, record_bytes=2000, groups=1),
    "notifications.email": dict(level=1 * MIB, growth=0, trough=0.1, record_bytes=1200, groups=1),
    "notifications.push": dict(level=2 * MIB, growth=20 * KIB, trough=0.1, record_bytes=400, groups=1),
    "fraud.scores": dict(level=3 * MIB, growth=0, trough=0.2, record_bytes=200, groups=2),
    "fraud.alerts": dict(level=64 * KIB, growth=0, trough=0.2, record_bytes=600, groups=2),
    "shipping.labels": dict(level=2 * MIB, growth=0, trough=0.3, record_bytes=3000, groups=1),
    "shipping.tracking": dict(level=8 * MIB, growth=100 * KIB, trough=0.3, record_bytes=250, groups=2),
    "recommendations.feed": dict(level=12 * MIB, growth=0, trough=0.3, record_bytes=5000, groups=1, noise=0.08),
    "audit.log": dict(level=3 * MIB, growth=0, trough=0.6, record_bytes=700, groups=1),
    "metrics.app": dict(level=5 * MIB, growth=0, trough=0.8, record_bytes=150, groups=1),
    "metrics.infra": dict(level=6 * MIB, growth=30 * KIB, trough=0.8, record_bytes=150, groups=1),
    "billing.invoices": dict(level=256 * KIB, growth=0, trough=0.1, record_bytes=4000, groups=2),
    "billing.usage": dict(level=4 * MIB, growth=0, trough=0.4, record_bytes=350, groups=1),
    # shrinks 200 KiB/s a day: 8 MiB/s at day 0, 1.4 MiB/s yesterday
    "legacy.batch_export": dict(level=8 * MIB, growth=-200 * KIB, trough=0.1, record_bytes=1000, groups=1),
    "users.signups": dict(level=1 * MIB, growth=0, trough=0.2, record_bytes=900, groups=2, noise=0.1),
    "users.logins": dict(level=7 * MIB, growth=0, trough=0.2, record_bytes=300, groups=2),
    "reports.daily": dict(level=128 * KIB, growth=0, trough=0.0, record_bytes=50000, groups=1),
    # deprecated.v1_orders: no traffic at all (no series), so no_data
}

# partitions of the topics with a busiest partition, as in demo.spec
PARTITIONS = {"clickstream.raw": 8}

# a fixed pattern of day-to-day variation, in [-1, 1]
NOISE = [0.6, -0.2, 1.0, -0.8, 0.1, -1.0, 0.4, 0.9, -0.5, 0.0, -0.3, 0.7, -0.9, 0.2]


def rate(spec, day, hour, days):
    """The topic's bytes per second in that hour of that day (0 = the window's first of days)."""
    level = spec["level"] + spec["growth"] * day
    if "noise" in spec:
        level *= 1 + spec["noise"] * NOISE[day % len(NOISE)]
    # 1 at the peak hour, trough twelve hours away
    cycle = (1 + math.cos(2 * math.pi * (hour - PEAK_HOUR) / 24)) / 2
    value = level * (spec["trough"] + (1 - spec["trough"]) * cycle)
    spike = spec.get("spike")
    if spike and day == days - spike[0] and hour == spike[1]:
        value *= spike[2]
    return max(value, 0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--openmetrics", required=True)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--today", type=datetime.date.fromisoformat,
                        default=datetime.datetime.now(datetime.timezone.utc).date())
    args = parser.parse_args()
    if args.days < 1:
        sys.exit("demo_history.py: --days must be at least 1")
    first = args.today - datetime.timedelta(days=args.days)
    start = int(datetime.datetime(first.year, first.month, first.day, tzinfo=datetime.timezone.utc).timestamp())
    steps = args.days * 86400 // STEP_S

    # per topic, the bytes of each 5-minute step (a step lies in one hour)
    step_bytes = {}
    for topic, spec in TOPICS.items():
        step_bytes[topic] = [rate(spec, k * STEP_S // 86400, k * STEP_S % 86400 // 3600, args.days) * STEP_S
                             for k in range(steps)]

    def cumulative(amounts, scale=1.0):
        """Counter values at every sample (one more than the steps), whole numbers."""
        total, values = 0.0, [0]
        for amount in amounts:
            total += amount * scale
            values.append(int(total))
        return values

    with open(args.openmetrics, "w") as out:
        def family(name, kind, series):
            out.write(f"# TYPE {name} {kind}\n")
            for sample_name, labels, values in series:
                prefix = f"{sample_name}{{{labels}}} "
                out.write("".join(f"{prefix}{v} {start + k * STEP_S}\n" for k, v in enumerate(values)))

        for measure, scale_of in (("bytesin", lambda s: 1.0), ("bytesout", lambda s: s["groups"]),
                                  ("messagesin", lambda s: 1.0 / s["record_bytes"])):
            name = f"kafka_server_brokertopicmetrics_{measure}"
            family(name, "counter",
                   [(name + "_total", f'{INSTANCE},topic="{t}"', cumulative(step_bytes[t], scale_of(s)))
                    for t, s in TOPICS.items()])

        # log-end offsets of the topics with a busiest partition: the records
        # of each step, that share to the busiest, the rest evenly
        offsets = []
        for topic, spec in TOPICS.items():
            if "busiest" not in spec:
                continue
            partitions = PARTITIONS[topic]
            busiest, share = spec["busiest"]
            for p in range(partitions):
                part = share if p == busiest else (1 - share) / (partitions - 1)
                offsets.append(("kafka_log_log_logendoffset",
                                f'{INSTANCE},partition="{p}",topic="{topic}"',
                                cumulative(step_bytes[topic], part / spec["record_bytes"])))
        family("kafka_log_log_logendoffset", "gauge", offsets)
        out.write("# EOF\n")

if __name__ == "__main__":
    main()
