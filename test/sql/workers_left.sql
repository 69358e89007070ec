-- Runs last: after the whole suite, no kafka_partition_recommender worker is
-- left (waiting at most 10 s for ones still exiting).
SELECT regress_helpers.workers_left() AS kafka_partition_recommender_workers;
