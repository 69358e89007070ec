-- Functions the later tests share, in a schema of their own (each test runs
-- in a session of its own, so pg_temp cannot hold them).
CREATE SCHEMA regress_helpers;

-- Waits until CONDITION (an SQL boolean expression, evaluated afresh each
-- time, with a new view of pg_stat_activity) is true, and returns WHAT; after
-- TIMEOUT it fails, saying what it waited for.  How the tests wait for the
-- state they need (another session's call running, a lock held, a run
-- recorded) before they act, as PostgreSQL's own TAP tests do with
-- poll_query_until.  The default bound is far above what any state here
-- takes to reach; a pass costs only the time the state really takes.
CREATE FUNCTION regress_helpers.wait_until(what text, condition text, timeout interval DEFAULT '60 s')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
    reached boolean;
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        EXECUTE format('SELECT (%s)', condition) INTO reached;
        IF reached THEN
            RETURN what;
        END IF;
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'waited % for this in vain: %', timeout, what
                USING DETAIL = format('The condition was: %s', condition);
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
END $$;

-- Waits (at most 60 s) until no kafka_partition_recommender worker runs and
-- returns how many are left.  Not a timing assertion: 60 s is far above the
-- half second a worker needs to go.
CREATE FUNCTION regress_helpers.workers_left() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    remaining bigint;
BEGIN
    FOR attempt IN 1..1200 LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT count(*) INTO remaining FROM pg_stat_activity
        WHERE backend_type = 'kafka_partition_recommender worker';
        EXIT WHEN remaining = 0;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN remaining;
END $$;

-- True while a worker samples the server's topics (its pg_stat_activity
-- row says "sample_topics on server S", then ": <phase>").
CREATE FUNCTION regress_helpers.sampling(server_name text) RETURNS boolean
LANGUAGE sql AS $$
    SELECT EXISTS (SELECT FROM pg_stat_activity
                   WHERE backend_type = 'kafka_partition_recommender worker'
                     AND (query = 'sample_topics on server ' || server_name
                          OR starts_with(query, 'sample_topics on server ' || server_name || ': ')))
$$;

-- Waits (at most 60 s) until a worker samples the server's topics.
CREATE FUNCTION regress_helpers.wait_for_sampling(server_name text) RETURNS boolean
LANGUAGE sql AS $$
    SELECT regress_helpers.wait_until('sampling ' || server_name,
                                      format('regress_helpers.sampling(%L)', server_name)) IS NOT NULL
$$;

-- The newest run of a server.
CREATE FUNCTION regress_helpers.latest_run(server_name text) RETURNS bigint
LANGUAGE sql AS $$ SELECT max(run_id) FROM kpr.collection_runs WHERE server = server_name $$;

-- A fingerprint of a server's history, to show it did not change.
CREATE FUNCTION regress_helpers.history(server_name text) RETURNS text
LANGUAGE sql AS $$
    SELECT count(*) || ' rows, ' || md5(string_agg(format('%s %s %s %s %s %s', topic, day, bytes_in, records_in,
                                                          bytes_out, run_id), ',' ORDER BY topic, day))
    FROM kpr.consumption_daily WHERE server = server_name
$$;

-- Waits until test/lib/collect_gate.sh holds its lock on the inventory, so
-- that a collect called next stops after its listing.
CREATE FUNCTION regress_helpers.wait_for_gate() RETURNS text
LANGUAGE sql AS $$
    SELECT regress_helpers.wait_until('the gate holds the inventory', $c$
        EXISTS (SELECT FROM pg_locks WHERE relation = 'kpr.topic_inventory'::regclass
                AND mode = 'ShareLock' AND granted AND pid <> pg_backend_pid())$c$)
$$;
