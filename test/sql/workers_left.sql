-- Runs last: after the whole suite, no kafka_partition_recommender worker is
-- left (waiting at most 10 s for ones still exiting).
DO $$
BEGIN
    FOR attempt IN 1..200 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity
                              WHERE backend_type = 'kafka_partition_recommender worker');
        PERFORM pg_sleep(0.05);
    END LOOP;
END $$;
SELECT count(*) AS kafka_partition_recommender_workers
FROM pg_stat_activity WHERE backend_type = 'kafka_partition_recommender worker';
