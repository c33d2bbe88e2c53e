"""The throw-away PostgreSQL cluster lives in edge/central/throwaway.py (also used by bench and make central-demo)."""

from edge.central.throwaway import PG_BIN, PgCluster, free_port

__all__ = ["PG_BIN", "PgCluster", "free_port"]
