-- Up Migration
-- A lower bound of each user's JSON size, kept with the user: its texts as JSON strings (escapes and
-- quotes included, so a name of control characters counts six bytes each, as on the wire), and the keys,
-- age and timestamp at their shortest. A listing then measures its page by a stored number instead of
-- serialising three columns of every candidate row on every request.
ALTER TABLE users ADD COLUMN min_json_bytes integer;
UPDATE users u
   SET min_json_bytes = octet_length(to_json(u.id)::text) + octet_length(to_json(u.name)::text)
     + octet_length(to_json(u.email)::text) + 60;
ALTER TABLE users ALTER COLUMN min_json_bytes SET NOT NULL;

-- Down Migration
ALTER TABLE users DROP COLUMN min_json_bytes;
