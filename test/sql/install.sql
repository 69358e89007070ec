-- Installation: CREATE EXTENSION needs no shared_preload_libraries and no
-- restart; every object is documented; nothing is granted to PUBLIC; history
-- and settings survive pg_dump; DROP EXTENSION removes everything.

SHOW shared_preload_libraries;
CREATE EXTENSION kafka_partition_recommender;

SELECT extversion, extnamespace::regnamespace
FROM pg_extension WHERE extname = 'kafka_partition_recommender';

SELECT pg_describe_object(classid, objid, objsubid) AS member
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'kafka_partition_recommender')
  AND deptype = 'e'
ORDER BY member;

-- Every schema, table, view, column and function a user reads has a comment:
-- the query lists those that do not (none expected).
SELECT c.oid::regclass::text AS object, a.attname::text AS column_without_comment
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'kpr'::regnamespace AND c.relkind IN ('r', 'v')
  AND col_description(c.oid, a.attnum) IS NULL
UNION ALL
SELECT c.oid::regclass::text, NULL
FROM pg_class c
WHERE c.relnamespace = 'kpr'::regnamespace AND c.relkind IN ('r', 'v')
  AND obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT p.oid::regprocedure::text, NULL
FROM pg_proc p
WHERE p.pronamespace = 'kpr'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
ORDER BY 1, 2;

SELECT obj_description('kpr'::regnamespace, 'pg_namespace') IS NOT NULL AS schema_has_comment,
       obj_description(oid, 'pg_foreign_data_wrapper') IS NOT NULL AS wrapper_has_comment
FROM pg_foreign_data_wrapper WHERE fdwname = 'kafka_partition_recommender';

-- Nothing in the extension is granted to PUBLIC (grantee 0 in aclexplode).
SELECT 'schema' AS kind, nspname AS name
FROM pg_namespace, aclexplode(coalesce(nspacl, acldefault('n', nspowner))) acl
WHERE nspname = 'kpr' AND acl.grantee = 0
UNION ALL
SELECT 'relation', relname
FROM pg_class, aclexplode(coalesce(relacl, acldefault('r', relowner))) acl
WHERE relnamespace = 'kpr'::regnamespace AND acl.grantee = 0
UNION ALL
SELECT 'function', proname
FROM pg_proc, aclexplode(coalesce(proacl, acldefault('f', proowner))) acl
WHERE pronamespace = 'kpr'::regnamespace AND acl.grantee = 0
UNION ALL
SELECT 'wrapper', fdwname
FROM pg_foreign_data_wrapper, aclexplode(coalesce(fdwacl, acldefault('F', fdwowner))) acl
WHERE fdwname = 'kafka_partition_recommender' AND acl.grantee = 0
ORDER BY 1, 2;

-- pg_dump keeps the rows of history and settings tables.
SELECT config::regclass AS dumped_with_data
FROM pg_extension, unnest(extconfig) AS config
WHERE extname = 'kafka_partition_recommender'
ORDER BY config::regclass::text;

-- DROP EXTENSION takes the schema with it; CREATE EXTENSION works again.
DROP EXTENSION kafka_partition_recommender;
SELECT count(*) AS kpr_schemas_left FROM pg_namespace WHERE nspname = 'kpr';
CREATE EXTENSION kafka_partition_recommender;

-- A schema named kpr that is not ours is never taken over.
DROP EXTENSION kafka_partition_recommender;
CREATE SCHEMA kpr;
CREATE EXTENSION kafka_partition_recommender;
DROP SCHEMA kpr;
CREATE EXTENSION kafka_partition_recommender;
