-- Set up for the suite-wide secrets check at the end of test secrets: from
-- here on, the server log also gets every NOTICE (errors, warnings and
-- their details already go there), and every row written to
-- kpr.collection_runs is copied aside, because tests delete their runs when
-- they clean up.  Every user mapping of the tests that make calls holds a
-- value starting "SECRET-" (or the Metrics API stub's secret), so the end
-- of test secrets can look for them in what all the failures above it
-- left behind.
ALTER SYSTEM SET log_min_messages = notice;
SELECT pg_reload_conf();

CREATE TABLE public.runs_seen (LIKE kpr.collection_runs);
-- SECURITY DEFINER: the roles that collect in the tests may not write here.
CREATE FUNCTION public.copy_run() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO public.runs_seen SELECT NEW.*;
    RETURN NULL;
END $$;
CREATE TRIGGER copy_run AFTER INSERT OR UPDATE ON kpr.collection_runs
    FOR EACH ROW EXECUTE FUNCTION public.copy_run();
