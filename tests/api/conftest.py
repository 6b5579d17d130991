from tests.postgres import postgres_cluster, postgres_url  # noqa: F401  (fixtures: a throwaway PostgreSQL)
