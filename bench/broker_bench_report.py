#!/usr/bin/env python3
"""broker_bench_report.py: the accuracy figures and the final table of
bench/broker_sample_bench.sh, from the files it wrote into its work dir.

    broker_bench_report.py WORK EXPECTED_CSV EXPECTED_HOURLY_CSV KEY=VALUE...

Truth is the loader's expected.csv (records, record_bytes per topic, day,
partition) and expected_hourly.csv (per topic, day, hour).  Per topic-day:
relative error of bytes_in, of avg_record_bytes (truth record_bytes /
records) and of peak_bytes_in_per_sec (truth: the busiest hour's
record_bytes / 3600, the hour chosen by bytes); max and median |error| per
budget.  When sample_topics returns bytes_in_stderr and
peak_bytes_in_per_sec_stderr, also the share of topic-days whose truth lies
within +-1.96 stderr of the estimate (coverage); otherwise "n/a".
"""
import csv
import statistics
import sys
from collections import defaultdict


def read_runs(path):
    """Lines "run seconds records loopback_bytes" -> list of tuples."""
    runs = []
    with open(path) as f:
        for line in f:
            run, secs, records, lo = line.split()
            runs.append((int(run), float(secs), int(records), int(lo)))
    return runs


def median_run(runs, key=1):
    """The run whose time is nearest the median time (and the median)."""
    med = statistics.median(r[key] for r in runs)
    return min(runs, key=lambda r: abs(r[key] - med)), med


def rel(estimate, truth):
    return (estimate - truth) / truth if truth else None


def pct(value):
    return "n/a" if value is None else f"{100 * value:.2f}%"


def main():
    work, expected_path, hourly_path = sys.argv[1:4]
    opts = dict(a.split("=", 1) for a in sys.argv[4:])
    budgets = [int(b) for b in opts["budgets"].split()]

    truth_records, truth_bytes = defaultdict(int), defaultdict(int)
    with open(expected_path) as f:
        for row in csv.DictReader(f):
            k = (row["topic"], row["day"])
            truth_records[k] += int(row["records"])
            truth_bytes[k] += int(row["record_bytes"])
    truth_peak = defaultdict(int)  # busiest hour's bytes
    with open(hourly_path) as f:
        for row in csv.DictReader(f):
            k = (row["topic"], row["day"])
            truth_peak[k] = max(truth_peak[k], int(row["record_bytes"]))

    sample_runs = defaultdict(list)  # budget -> [(run, secs, lo, b, s, rounds, round_ms)]
    with open(f"{work}/sample_runs.txt") as f:
        for line in f:
            budget, run, status, secs, lo, b, s, rounds, round_ms = line.split()
            sample_runs[int(budget)].append(
                (int(run), float(secs), int(lo), int(b), int(s), int(rounds), int(round_ms)))
    median_of = {}
    with open(f"{work}/median_runs.txt") as f:
        for line in f:
            budget, run = line.split()
            median_of[int(budget)] = int(run)

    print()
    print(f"Broker: {opts['partitions']} partitions, {int(opts['total_records']):,} records, "
          f"{int(opts['total_bytes']) / 1e6:,.0f} MB of keys+values+headers over {opts['days']} days, "
          f"{int(opts['disk_bytes']) / 1e6:,.0f} MB of log segments (.log files); started and loaded in "
          f"{float(opts['load_secs']):.1f} s")
    print(f"Extension library: {opts['library']}")
    print()
    print("sample_topics runs (budget, run: seconds, boundary + sample records, rounds, "
          "ms in rounds, loopback MB):")
    for budget in budgets:
        for run, secs, lo, b, s, rounds, round_ms in sample_runs[budget]:
            mark = "  <- median" if median_of[budget] == run else ""
            print(f"  {budget:>6} run {run}: {secs:8.2f} s  {b:>7} + {s:<9} {rounds:>4} rounds "
                  f"{round_ms / 1000:8.2f} s  {lo / 1e6:9.1f} MB{mark}")

    accuracy = {}
    for budget in budgets:
        path = f"{work}/run_{budget}_{median_of[budget]}.csv"
        with open(path) as f:
            rows = {(r["topic"], r["day"]): r for r in csv.DictReader(f)}
        has_stderr = rows and "bytes_in_stderr" in next(iter(rows.values()))
        err_bytes, err_avg, err_peak = [], [], []
        cover_bytes, cover_peak = [], []
        exact = missing = 0
        detail = []
        for k in sorted(truth_records):
            r = rows.get(k)
            if r is None:
                missing += 1
                detail.append((k, None))
                continue
            exact += int(r["records_in"]) == truth_records[k]
            tb, tr, tp = truth_bytes[k], truth_records[k], truth_peak[k] / 3600
            eb = rel(float(r["bytes_in"]), tb)
            ea = rel(float(r["avg_record_bytes"]), tb / tr) if r["avg_record_bytes"] else None
            ep = rel(float(r["peak_bytes_in_per_sec"]), tp) if r["peak_bytes_in_per_sec"] else None
            for lst, e in ((err_bytes, eb), (err_avg, ea), (err_peak, ep)):
                if e is not None:
                    lst.append(abs(e))
            if has_stderr:
                for lst, est, se, t in ((cover_bytes, r["bytes_in"], r.get("bytes_in_stderr"), tb),
                                        (cover_peak, r["peak_bytes_in_per_sec"],
                                         r.get("peak_bytes_in_per_sec_stderr"), tp)):
                    if est and se:
                        lst.append(abs(float(est) - t) <= 1.96 * float(se))
            detail.append((k, (r, eb, ea, ep)))
        accuracy[budget] = dict(
            n=len(truth_records), exact=exact, missing=missing,
            bytes=(max(err_bytes, default=None), statistics.median(err_bytes) if err_bytes else None),
            avg=(max(err_avg, default=None), statistics.median(err_avg) if err_avg else None),
            peak=(max(err_peak, default=None), statistics.median(err_peak) if err_peak else None),
            cover_bytes=(f"{sum(cover_bytes)}/{len(cover_bytes)}" if has_stderr else "n/a"),
            cover_peak=(f"{sum(cover_peak)}/{len(cover_peak)}" if has_stderr else "n/a"),
            peak_rows=len(err_peak))

        print()
        print(f"Accuracy, budget {budget} (run {median_of[budget]}) against expected.csv / "
              f"expected_hourly.csv (exact, from the spec):")
        strat = " stratified_by" if rows and "stratified_by" in next(iter(rows.values())) else ""
        print(f"  {'topic':<12} {'day':<10} {'records_in':>10} {'sampled':>8} {'true bytes':>12} "
              f"{'bytes err':>10} {'avg err':>9} {'true peak B/s':>13} {'peak err':>9}{strat}")
        for k, d in detail:
            if d is None:
                print(f"  {k[0]:<12} {k[1]:<10} MISSING (no row from sample_topics)")
                continue
            r, eb, ea, ep = d
            flag = "" if int(r["records_in"]) == truth_records[k] else f" (truth {truth_records[k]})"
            extra = f" {r['stratified_by']}" if strat else ""
            print(f"  {k[0]:<12} {k[1]:<10} {r['records_in']:>10}{flag} {r['sampled_records']:>8} "
                  f"{truth_bytes[k]:>12} {pct(eb):>10} {pct(ea):>9} {truth_peak[k] / 3600:>13.1f} "
                  f"{pct(ep):>9}{extra}")
        print(f"  records_in exact for {exact} of {len(truth_records)} topic-days"
              f"{f', {missing} missing' if missing else ''}")

    # the table
    def timing(name):
        runs = read_runs(f"{work}/{name}.txt")
        best, med = median_run(runs)
        return med, best[2], best[3]

    one_secs, _, _ = timing("kcat_one")
    full_secs, full_records, full_lo = timing("kcat_full")
    jobs = opts["kcat_jobs"]
    print()
    print(f"Reading the last {opts['days']} days from a real Kafka 3.9 broker: {opts['partitions']} "
          f"partitions, {int(opts['total_records']):,} records (median of {opts['repeats']} runs; "
          f"ratios are the point, times depend on the machine; lo MB = loopback bytes meanwhile, "
          f"whole machine). Errors are |relative error| per topic-day, max / median; "
          f"coverage = topic-days with the truth within +-1.96 stderr.")
    print()
    print("| budget | method | records read | wall s | lo MB | bytes_in err max / med "
          "| avg_record_bytes err max / med | peak err max / med | coverage bytes_in | coverage peak |")
    print("|---:|---|---:|---:|---:|---|---|---|---|---|")

    def line(budget, method, records, secs, lo, acc=None):
        if acc is None:
            cells = [""] * 5
        else:
            cells = [f"{pct(acc['bytes'][0])} / {pct(acc['bytes'][1])}",
                     f"{pct(acc['avg'][0])} / {pct(acc['avg'][1])}",
                     f"{pct(acc['peak'][0])} / {pct(acc['peak'][1])}",
                     acc["cover_bytes"], acc["cover_peak"]]
        lo_cell = "" if lo is None else f"{lo / 1e6:,.1f}"
        print(f"| {budget} | {method} | {records} | {secs:.2f} | {lo_cell} | " + " | ".join(cells) + " |")

    for budget in budgets:
        runs = sample_runs[budget]
        med_secs = statistics.median(r[1] for r in runs)
        m = next(r for r in runs if r[0] == median_of[budget])
        records = m[3] + m[4]
        line(budget, f"kpr.sample_topics ({m[3]:,} boundary + {m[4]:,} sample records)",
             f"{records:,}", med_secs, m[2], accuracy[budget])
        plan_partitions = sum(1 for _ in open(f"{work}/plan_{budget}.txt"))
        for name, label in ((f"kcat_seq_{budget}", f"kcat -p P -c N, {plan_partitions} processes, 1 at a time"),
                            (f"kcat_par_{budget}", f"kcat -p P -c N, {plan_partitions} processes, {jobs} at a time"),
                            (f"floor_{budget}", "read_floor (librdkafka, 1 consumer, all partitions assigned)")):
            secs, rec, lo = timing(name)
            line(budget, label, f"{rec:,}", secs, lo)
        line(budget, f"(kcat start-up floor x {plan_partitions} processes)", "", one_secs * plan_partitions, None)
    line("-", "kcat 1 record of 1 partition (per-process floor)", "1", one_secs, timing("kcat_one")[2])
    line("-", "kcat whole window, topic after topic", f"{full_records:,}", full_secs, full_lo)
    print()
    for budget in budgets:
        a = accuracy[budget]
        print(f"budget {budget}: records_in exact for {a['exact']}/{a['n']} topic-days; "
              f"peak reported for {a['peak_rows']}/{a['n']}")
    print(f"Run on {opts['today']} (UTC).")


if __name__ == "__main__":
    main()
