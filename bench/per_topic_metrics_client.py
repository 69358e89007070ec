#!/usr/bin/env python3
"""The baseline of bench/metrics_vs_per_topic.sh: a per-topic Metrics API client.

    per_topic_metrics_client.py URL --topics N --first-day D --last-day D
                                [--concurrency 4] [--cluster-id ID]
                                [--expected expected_metrics.csv]

It asks what kpr.fetch_metrics asks (the daily totals, P1D, of received_bytes,
received_records, sent_bytes and sent_records, and the hourly buckets, PT1H,
of received_bytes and sent_bytes for the peaks) over the same midnight-aligned
interval, but the way a per-topic tool does (the J3 recommender's
get_topic_daily_aggregated_totals): one request per topic and metric, the
filter an AND of metric.topic EQ the topic and resource.kafka.id EQ the
cluster, grouped by metric.topic.  So 6 requests per topic, N topics
syn-00000 .. (the stub's synthetic topics, in name order), --concurrency
requests in flight, one keep-alive connection per worker thread.

Prints one line: "requests seconds response_bytes checked_rows mismatches";
seconds run from the first request to the last answer.  With --expected,
every (topic, day) of the window is compared with the stub's
expected_metrics.csv (absent rows are zeros); mismatches are listed on
stderr.  Exits 1 on any HTTP error.  The API secret comes from the
environment (KPR_METRICS_SECRET), never the command line.
"""

import argparse
import base64
import csv
import datetime
import http.client
import json
import os
import queue
import sys
import threading
import time

PLAN = [  # (metric, granularity, column of expected_metrics.csv)
    ("received_bytes", "P1D", "bytes_in"),
    ("received_records", "P1D", "records_in"),
    ("sent_bytes", "P1D", "bytes_out"),
    ("sent_records", "P1D", "records_out"),
    ("received_bytes", "PT1H", "peak_bytes_in_per_sec"),
    ("sent_bytes", "PT1H", "peak_bytes_out_per_sec"),
]


def query_body(topic, metric, granularity, cluster_id, interval):
    return json.dumps({
        "aggregations": [{"metric": "io.confluent.kafka.server/" + metric}],
        "filter": {"op": "AND", "filters": [
            {"field": "metric.topic", "op": "EQ", "value": topic},
            {"field": "resource.kafka.id", "op": "EQ", "value": cluster_id}]},
        "granularity": granularity,
        "group_by": ["metric.topic"],
        "intervals": [interval],
        "format": "FLAT",
    }, separators=(",", ":")).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--topics", type=int, required=True)
    ap.add_argument("--first-day", required=True)
    ap.add_argument("--last-day", required=True)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--cluster-id", default="lkc-kpr001")
    ap.add_argument("--key", default="KPRTESTKEY")
    ap.add_argument("--expected")
    args = ap.parse_args()

    secret = os.environ.get("KPR_METRICS_SECRET", "kpr-test-metrics-secret")
    auth = "Basic " + base64.b64encode(f"{args.key}:{secret}".encode()).decode()
    first = datetime.date.fromisoformat(args.first_day)
    last = datetime.date.fromisoformat(args.last_day)
    days = [(first + datetime.timedelta(d)).isoformat() for d in range((last - first).days + 1)]
    interval = f"{first.isoformat()}T00:00:00Z/{(last + datetime.timedelta(1)).isoformat()}T00:00:00Z"
    topics = [f"syn-{i:05d}" for i in range(args.topics)]
    host, port = args.url.split("//", 1)[1].rstrip("/").split(":")

    jobs = queue.Queue()
    for topic in topics:
        for metric, granularity, column in PLAN:
            jobs.put((topic, column, granularity, query_body(topic, metric, granularity, args.cluster_id, interval)))
    results = {}                 # (topic, day, column) -> value
    lock = threading.Lock()
    stats = {"requests": 0, "bytes": 0}
    failures = []

    def worker():
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        headers = {"Authorization": auth, "Content-Type": "application/json", "Accept": "application/json"}
        try:
            while not failures:
                try:
                    topic, column, granularity, body = jobs.get_nowait()
                except queue.Empty:
                    return
                conn.request("POST", "/v2/metrics/cloud/query", body, headers)
                response = conn.getresponse()
                raw = response.read()
                with lock:
                    stats["requests"] += 1
                    stats["bytes"] += len(raw)
                if response.status != 200:
                    failures.append(f"{topic} {column}: HTTP {response.status}: {raw[:200]!r}")
                    return
                values = {}
                for point in json.loads(raw)["data"]:
                    if point.get("metric.topic") != topic:
                        failures.append(f"{topic} {column}: a point of topic {point.get('metric.topic')!r}")
                        return
                    day = point["timestamp"][:10]
                    if granularity == "P1D":
                        values[day] = values.get(day, 0) + int(point["value"])
                    else:
                        values[day] = max(values.get(day, 0), point["value"])
                with lock:
                    for day, value in values.items():
                        results[(topic, day, column)] = value / 3600 if granularity == "PT1H" else value
        except Exception as e:                  # noqa: BLE001 - reported, then exit 1
            failures.append(f"{type(e).__name__}: {e}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    if failures:
        print("per_topic_metrics_client.py: " + failures[0], file=sys.stderr)
        sys.exit(1)

    checked = mismatches = 0
    if args.expected:
        wanted = set(topics)
        expected = {}
        with open(args.expected, newline="") as f:
            for row in csv.DictReader(f):
                if row["topic"] in wanted and row["day"] in days:
                    expected[(row["topic"], row["day"])] = row
        for topic in topics:
            for day in days:
                row = expected.get((topic, day))
                for _, granularity, column in PLAN:
                    want = 0 if row is None else (float(row[column]) if granularity == "PT1H" else int(row[column]))
                    got = results.get((topic, day, column), 0)
                    if got != want:
                        mismatches += 1
                        if mismatches <= 10:
                            print(f"MISMATCH {topic} {day} {column}: got {got!r}, expected {want!r}", file=sys.stderr)
                checked += 1
    print(stats["requests"], f"{seconds:.3f}", stats["bytes"], checked, mismatches)


if __name__ == "__main__":
    main()
