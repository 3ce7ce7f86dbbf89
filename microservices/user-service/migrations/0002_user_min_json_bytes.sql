-- Up Migration
-- A lower bound of each user's JSON size, kept with the user: its texts as JSON strings (escapes and
-- quotes included, so a name of control characters counts six bytes each, as on the wire), and the keys,
-- age and timestamp at their shortest. A listing then measures its page by a stored number instead of
-- serialising three columns of every candidate row on every request. A trigger keeps it, so every writer
-- (the service, a data import, a hand-written fix) stores the same size without knowing the formula.
ALTER TABLE users ADD COLUMN min_json_bytes integer;

CREATE FUNCTION users_min_json_bytes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.min_json_bytes := octet_length(to_json(NEW.id)::text) + octet_length(to_json(NEW.name)::text)
    + octet_length(to_json(NEW.email)::text) + 60;
  RETURN NEW;
END
$$;

CREATE TRIGGER users_min_json_bytes BEFORE INSERT OR UPDATE OF id, name, email ON users
  FOR EACH ROW EXECUTE FUNCTION users_min_json_bytes();

-- The users already stored: assigning a column the trigger watches runs it once per row.
UPDATE users SET name = name;
ALTER TABLE users ALTER COLUMN min_json_bytes SET NOT NULL;

-- Down Migration
DROP TRIGGER users_min_json_bytes ON users;
DROP FUNCTION users_min_json_bytes();
ALTER TABLE users DROP COLUMN min_json_bytes;
