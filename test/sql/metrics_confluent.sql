-- kpr.fetch_metrics from the Confluent Metrics API: the local stub of
-- test/fixtures/confluent_metrics serves the mock cluster's traffic
-- (expected_hourly.csv) plus 1,500 generated topics, so every query has two
-- pages.  The stub writes what it serves (expected_metrics.csv): values must
-- match it exactly.  Faults are switched on through its control FIFO.
-- Days are shown as days before today, so output is stable.
\getenv bootstrap KPR_MOCK_BOOTSTRAP
\getenv confluent_url KPR_CONFLUENT_URL
\getenv confluent_state KPR_CONFLUENT_STATE
\getenv stub KPR_CONFLUENT_STUB
SELECT :{?bootstrap} AND :{?confluent_url} AND :{?confluent_state} AND :{?stub}
    AS "the peers are running";
SELECT (now() AT TIME ZONE 'UTC')::date AS today \gset
\setenv KPR_DB :DBNAME
SELECT pg_backend_pid() AS backend_pid \gset
\setenv KPR_BACKEND_PID :backend_pid

CREATE SERVER confluent FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'confluent',
             metrics_url :'confluent_url', cluster_id 'lkc-kpr001');
CREATE USER MAPPING FOR CURRENT_USER SERVER confluent
    OPTIONS (metrics_api_key 'KPRTESTKEY', metrics_api_secret 'kpr-test-metrics-secret');

-- What the stub serves, per topic and UTC day (no rows for idle days).
\set expected_csv `cat "$KPR_CONFLUENT_STATE/expected_metrics.csv"`
CREATE TEMP TABLE served AS
SELECT f[1] AS topic, f[2]::date AS day,
       f[3]::bigint AS bytes_in, f[4]::bigint AS records_in,
       f[5]::bigint AS bytes_out, f[6]::bigint AS records_out,
       f[7]::float8 AS peak_bytes_in_per_sec, f[8]::float8 AS peak_bytes_out_per_sec
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'expected_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines
WHERE f[2]::date BETWEEN :'today'::date - 6 AND :'today'::date - 1;

-- The six complete days the API still keeps.
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" requests_clear
CREATE TEMP TABLE fetched AS
SELECT * FROM kpr.fetch_metrics('confluent', :'today'::date - 6, :'today'::date - 1);

-- The mock's topics: every value exact; idle topics and days are zeros.
SELECT f.topic, :'today'::date - f.day AS days_ago,
       f.bytes_in, f.records_in, f.bytes_out, f.records_out,
       round(f.peak_bytes_in_per_sec::numeric, 3) AS peak_in,
       round(f.peak_bytes_out_per_sec::numeric, 3) AS peak_out,
       (f.bytes_in, f.records_in, f.bytes_out, f.records_out,
        f.peak_bytes_in_per_sec, f.peak_bytes_out_per_sec)
       IS NOT DISTINCT FROM
       (coalesce(s.bytes_in, 0), coalesce(s.records_in, 0), coalesce(s.bytes_out, 0),
        coalesce(s.records_out, 0), coalesce(s.peak_bytes_in_per_sec, 0),
        coalesce(s.peak_bytes_out_per_sec, 0)) AS exact
FROM fetched f LEFT JOIN served s USING (topic, day)
WHERE f.topic NOT LIKE 'syn-%'
ORDER BY f.topic, f.day;

-- The 1,500 generated topics (idle ones served nothing, so they are not
-- known to exist): nothing missing, nothing extra, nothing different.
SELECT count(DISTINCT topic) AS topics, count(*) AS rows,
       count(*) FILTER (WHERE s.topic IS NULL AND f.bytes_in + f.bytes_out + f.records_in + f.records_out > 0) AS unexplained,
       count(*) FILTER (WHERE s.topic IS NOT NULL AND
           (f.bytes_in, f.records_in, f.bytes_out, f.records_out,
            f.peak_bytes_in_per_sec, f.peak_bytes_out_per_sec) IS DISTINCT FROM
           (s.bytes_in, s.records_in, s.bytes_out, s.records_out,
            s.peak_bytes_in_per_sec, s.peak_bytes_out_per_sec)) AS different
FROM fetched f LEFT JOIN served s USING (topic, day)
WHERE f.topic LIKE 'syn-%';
SELECT count(*) AS served_but_not_fetched
FROM served s LEFT JOIN fetched f USING (topic, day)
WHERE f.topic IS NULL AND s.topic NOT LIKE '\_%';

-- Six grouped queries of two pages each: twelve requests for 1,500 topics,
-- every page fetched once, the second page with the first page's body.
\set requests `cat "$KPR_CONFLUENT_STATE/requests.jsonl"`
CREATE TEMP TABLE requests AS
SELECT line::json AS r FROM regexp_split_to_table(:'requests', '\n') AS line WHERE line <> '';
SELECT count(*) AS requests,
       count(DISTINCT r->>'body') AS distinct_bodies,
       count(*) FILTER (WHERE r->>'query' LIKE '%page_token=%') AS with_page_token,
       count(DISTINCT (r->>'body', r->>'query')) AS distinct_pages,
       bool_and(r->>'body' LIKE '%"group_by":["metric.topic"]%') AS grouped_by_topic,
       bool_and(r->>'body' LIKE '%"intervals":["' || to_char(:'today'::date - 6, 'YYYY-MM-DD') ||
                'T00:00:00Z/' || to_char(:'today'::date, 'YYYY-MM-DD') || 'T00:00:00Z"]%') AS midnight_aligned
FROM requests;

-- A topic filter and the internal topics work as for the Kafka functions.
SELECT topic, count(*) AS days, sum(records_in) AS records_in
FROM kpr.fetch_metrics('confluent', :'today'::date - 6, :'today'::date - 1, 'orders,_*', true)
GROUP BY topic ORDER BY topic;

-- Today so far: the interval ends at the current minute.
SELECT count(*) > 0 AS has_rows, bool_and(day = :'today') AS only_today
FROM kpr.fetch_metrics('confluent', :'today', :'today');

-- Faults the client rides out: rate limits (with and without Retry-After),
-- server errors, a body cut short or reset, an expired page token.
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" rate_limit 2 1 1
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" rate_limit 1 1
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" error500 1
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" error503 1
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" truncated 1
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset_mid_body 1
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" expire_token 1
CREATE TEMP TABLE again AS
SELECT * FROM kpr.fetch_metrics('confluent', :'today'::date - 6, :'today'::date - 1);
SELECT (SELECT count(*) FROM (SELECT * FROM fetched EXCEPT SELECT * FROM again) d) +
       (SELECT count(*) FROM (SELECT * FROM again EXCEPT SELECT * FROM fetched) d) AS different_rows;
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset

-- Faults that end the call with a clear error and no rows.  Six queries run
-- at once and any of them may meet a fault first, so the message's "the P1D
-- query of received_bytes (page 1)" is shown as "a query" (and libcurl's
-- connect time as N).  Each fault is
-- queued for many requests: requests of the previous call that the stub
-- reads late must not use it up.
CREATE FUNCTION pg_temp.fetch_error(first_day date, last_day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    message text;
    detail text;
    hint text;
BEGIN
    PERFORM count(*) FROM kpr.fetch_metrics('confluent', first_day, last_day);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN regexp_replace(regexp_replace(
               concat_ws(E'\n', 'ERROR: ' || message, 'DETAIL: ' || nullif(detail, ''),
                         'HINT: ' || nullif(hint, '')),
               'the P\w+ query of \w+ \(page \d+\)', 'a query', 'g'),
           'after \d+ ms', 'after N ms', 'g');
END
$$;
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" error401 100
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" error403 100
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" malformed 100
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" wrong_shape 100 value_string
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" wrong_shape 100 no_data
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" oversized 8 70
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
-- Two 50 MB bodies, under that bound, each a last page of value 1 for
-- topics oversized-000 to -999 on the first day: read whole, every point kept.
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" oversized 2 50
SELECT count(DISTINCT topic) AS oversized_topics,
       count(DISTINCT topic) FILTER (WHERE day = :'today'::date - 6 AND total > 0)
           AS with_a_value_on_the_first_day,
       count(*) FILTER (WHERE day <> :'today'::date - 6 AND total > 0) AS values_on_other_days,
       max(greatest(bytes_in, records_in, bytes_out, records_out)) AS largest_value
FROM (SELECT *, bytes_in + records_in + bytes_out + records_out +
                peak_bytes_in_per_sec + peak_bytes_out_per_sec AS total
      FROM kpr.fetch_metrics('confluent', :'today'::date - 6, :'today'::date - 1)
      WHERE topic LIKE 'oversized-%') AS f;
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
-- server errors that do not stop: four attempts, then the error
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" error500 40
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
-- a service slower than kpr.http_timeout
SET kpr.http_timeout = '300ms';
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" slow 40 2
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
RESET kpr.http_timeout;
-- a rate limit asking for longer than the statement has left
SET statement_timeout = '3s';
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" rate_limit 40 30 30
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
-- statement_timeout while the service is slow: the statement is canceled
SET statement_timeout = '1s';
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" slow 40 5
SELECT count(*) FROM kpr.fetch_metrics('confluent', :'today'::date - 6, :'today'::date - 1);
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
RESET statement_timeout;
-- pg_cancel_backend while the service is slow (30 s an answer): the same.
-- The cancel is sent once the call's worker runs.
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" slow 40 30
\! "$KPR_BACKGROUND" start canceller --after 'the call runs' "EXISTS (SELECT FROM pg_stat_activity WHERE query = 'fetch_metrics on server confluent')" psql -XAtq -d "$KPR_DB" -c "SELECT pg_cancel_backend($KPR_BACKEND_PID)"
SELECT count(*) FROM kpr.fetch_metrics('confluent', :'today'::date - 6, :'today'::date - 1);
\! "$KPR_BACKGROUND" wait canceller
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
-- nothing listening at the metrics_url
ALTER SERVER confluent OPTIONS (SET metrics_url 'http://127.0.0.1:1');
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
ALTER SERVER confluent OPTIONS (SET metrics_url :'confluent_url');

-- A wrong secret: the error names the server, the user and the key, never the secret.
ALTER USER MAPPING FOR CURRENT_USER SERVER confluent
    OPTIONS (SET metrics_api_secret 'not-the-right-secret-7f3a');
SELECT count(*) FROM kpr.fetch_metrics('confluent', :'today'::date - 6, :'today'::date - 1);
ALTER USER MAPPING FOR CURRENT_USER SERVER confluent
    OPTIONS (DROP metrics_api_key, DROP metrics_api_secret);
SELECT count(*) FROM kpr.fetch_metrics('confluent', :'today'::date - 6, :'today'::date - 1);
ALTER USER MAPPING FOR CURRENT_USER SERVER confluent
    OPTIONS (ADD metrics_api_key 'KPRTESTKEY', ADD metrics_api_secret 'kpr-test-metrics-secret');

-- A wrong cluster id is refused by the API (403).
ALTER SERVER confluent OPTIONS (SET cluster_id 'lkc-other');
SELECT pg_temp.fetch_error(:'today'::date - 6, :'today'::date - 1);
ALTER SERVER confluent OPTIONS (SET cluster_id 'lkc-kpr001');

-- Day ranges that cannot be asked for (details name today: left out).
\set VERBOSITY terse
SELECT * FROM kpr.fetch_metrics('confluent', '2026-01-02', '2026-01-01');
SELECT * FROM kpr.fetch_metrics('confluent', '2026-01-01', '2999-01-01');
SELECT * FROM kpr.fetch_metrics('confluent', '2026-01-01', :'today'::date - 1);
SELECT * FROM kpr.fetch_metrics('confluent', '2020-01-01', '2021-06-01');
SELECT * FROM kpr.fetch_metrics('confluent', NULL, :'today'::date);
-- the oldest day the API keeps whole is today - 6 (the message names dates)
\set VERBOSITY sqlstate
SELECT count(*) FROM kpr.fetch_metrics('confluent', :'today'::date - 7, :'today'::date - 7);
\set VERBOSITY default
SELECT count(*) > 0 AS accepted FROM kpr.fetch_metrics('confluent', :'today'::date - 6, :'today'::date - 6);
-- A server without a metrics source.
CREATE SERVER plain FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER plain
    OPTIONS ("ssl.key.password" 'SECRET-plain-key-password');
SELECT * FROM kpr.fetch_metrics('plain', :'today'::date - 1, :'today'::date - 1);

-- No secret in the server log, whatever failed above.
\! grep -c -e 'kpr-test-metrics-secret' -e 'not-the-right-secret' "$(dirname "$PGSYSCONFDIR")"/log/postgresql-*.log
-- and the log is the right one: it has the errors of this test
\! grep -q 'refused the credentials of user' "$(dirname "$PGSYSCONFDIR")"/log/postgresql-*.log && echo "errors are in the log"

DROP SERVER plain CASCADE;
DROP SERVER confluent CASCADE;
