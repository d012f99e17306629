-- Roles and databases for brewmesh. Idempotent: safe to run on every start.
-- Used twice:
--   * by the postgres image (deploy/compose.yaml mounts it into
--     /docker-entrypoint-initdb.d, run once on an empty volume);
--   * by scripts/stack.sh on the local-process stack, on every `up`.
-- Run with psql (it uses \gexec), connected as a superuser.

-- The tests create one fresh database per test file, hence CREATEDB.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'brewmesh') THEN
    CREATE ROLE brewmesh LOGIN CREATEDB PASSWORD 'brewmesh';
  ELSE
    ALTER ROLE brewmesh LOGIN CREATEDB;
  END IF;
END
$$;

-- One database per service. CREATE DATABASE cannot run inside DO/functions, so
-- generate the missing statements and let psql execute them.
SELECT format('CREATE DATABASE %I OWNER brewmesh', name)
FROM unnest(ARRAY['customerdb', 'orderdb', 'loyaltydb', 'favoritesdb']) AS name
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = name)
\gexec
