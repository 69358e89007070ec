-- Functions the later tests share, in a schema of their own (each test runs
-- in a session of its own, so pg_temp cannot hold them).
CREATE SCHEMA regress_helpers;

-- Waits (at most 10 s) until no kafka_partition_recommender worker runs and
-- returns how many are left.  Not a timing assertion: 10 s is far above the
-- half second a worker needs to go.
CREATE FUNCTION regress_helpers.workers_left() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    remaining bigint;
BEGIN
    FOR attempt IN 1..200 LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT count(*) INTO remaining FROM pg_stat_activity
        WHERE backend_type = 'kafka_partition_recommender worker';
        EXIT WHEN remaining = 0;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN remaining;
END $$;

-- Waits (at most 20 s) until a worker samples the server's topics.
CREATE FUNCTION regress_helpers.wait_for_sampling(server_name text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    FOR attempt IN 1..400 LOOP
        PERFORM pg_stat_clear_snapshot();
        IF EXISTS (SELECT FROM pg_stat_activity WHERE query = 'sample_topics on server ' || server_name) THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN false;
END $$;

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
