-- Social edges. friend and follow and block go user -> user; member_of goes user -> group.
-- Visibility rules the service applies: a block hides every item of the blocked author from the blocker;
-- friendship is mutual whichever direction was stored; follows and group membership only raise features.
CREATE TABLE IF NOT EXISTS groups (
    group_id    integer PRIMARY KEY,
    name        text NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS social_edges (
    from_user   integer NOT NULL REFERENCES users (user_index),
    to_id       integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('friend', 'follow', 'member_of', 'block')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (from_user, kind, to_id)
);

-- Reverse lookups: who follows / blocked / befriended this user, who is in this group.
CREATE INDEX IF NOT EXISTS social_edges_to ON social_edges (to_id, kind);
