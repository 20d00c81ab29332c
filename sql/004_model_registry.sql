-- Trained models: one row per version. status moves candidate -> active -> retired; at most one active model per name.
CREATE TABLE IF NOT EXISTS model_registry (
    name        text NOT NULL DEFAULT 'ranker',
    version     text NOT NULL,
    path        text NOT NULL,
    metrics     jsonb NOT NULL DEFAULT '{}'::jsonb,
    status      text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'active', 'retired', 'rejected')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

CREATE UNIQUE INDEX IF NOT EXISTS model_registry_one_active ON model_registry (name) WHERE status = 'active';
