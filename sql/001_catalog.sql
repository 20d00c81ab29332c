-- Items and users. item_index/user_index are the dense ids the service uses on its hot paths and in Redis keys:
-- assigned once, never reused, so they stay stable across catalog refreshes.
CREATE TABLE IF NOT EXISTS categories (
    category_id   integer PRIMARY KEY,
    name          text NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS users (
    user_index        integer PRIMARY KEY,
    user_id           text NOT NULL UNIQUE,
    age               integer NOT NULL DEFAULT 0,
    region            text NOT NULL,
    language          text NOT NULL,
    allow_nsfw        boolean NOT NULL DEFAULT false,
    avg_dwell_seconds real NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS items (
    item_index        integer PRIMARY KEY,
    item_id           text NOT NULL UNIQUE,
    title             text NOT NULL,
    category_id       integer NOT NULL REFERENCES categories (category_id),
    author_index      integer NOT NULL REFERENCES users (user_index),
    created_at        timestamptz NOT NULL,
    engagement        real NOT NULL DEFAULT 0,
    nsfw              boolean NOT NULL DEFAULT false,
    region            text NOT NULL,
    language          text NOT NULL,
    thumbnail_url     text NOT NULL DEFAULT '',
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- The catalog refresh compares count and max(updated_at) to decide whether to reload; writers need not remember to
-- bump updated_at, the trigger does.
CREATE INDEX IF NOT EXISTS items_updated_at ON items (updated_at);
CREATE INDEX IF NOT EXISTS users_updated_at ON users (updated_at);

CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS items_touch ON items;
CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
DROP TRIGGER IF EXISTS users_touch ON users;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Names the loaded data set (the demo world's version, or an import's), reported by /health/ready.
CREATE TABLE IF NOT EXISTS catalog_meta (
    key    text PRIMARY KEY,
    value  text NOT NULL
);
