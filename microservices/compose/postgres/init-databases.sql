-- One database and one login role per service, so neither service can read the other's data.
-- The official postgres image runs this once, as the superuser, when its data volume is empty
-- (docker-compose.yml mounts it into /docker-entrypoint-initdb.d). The container tests run it too,
-- against the PostgreSQL that stands in for that image.
-- Local development only: these passwords are in docker-compose.yml's DATABASE_URLs and are not secrets.

CREATE ROLE user_service LOGIN PASSWORD 'user_service';
CREATE DATABASE users OWNER user_service;
REVOKE ALL ON DATABASE users FROM PUBLIC;

CREATE ROLE order_service LOGIN PASSWORD 'order_service';
CREATE DATABASE orders OWNER order_service;
REVOKE ALL ON DATABASE orders FROM PUBLIC;
