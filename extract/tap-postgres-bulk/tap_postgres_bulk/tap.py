"""tap-postgres-bulk: meltanolabs-tap-postgres with a bulk BATCH path (stream.py).

The same tap (its name, settings, discovery, catalog, state and LOG_BASED replication are
tap-postgres 0.10.0's); only INCREMENTAL and FULL_TABLE streams change class, and only their
Parquet BATCH path differs. All of a run's streams read one snapshot, closed when the sync ends.
"""

from __future__ import annotations

import typing as t

from tap_postgres.client import PostgresLogBasedStream
from tap_postgres.tap import TapPostgres

from tap_postgres_bulk.snapshot import Snapshot
from tap_postgres_bulk.stream import BulkPostgresStream

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from singer_sdk import Stream
    from tap_postgres.connection_parameters import ConnectionParameters


def conninfo(parameters: ConnectionParameters) -> str:
    """libpq connection string without the password (that goes through PGPASSWORD)."""
    values: dict[str, t.Any] = {
        "host": parameters.host,
        "port": parameters.port,
        "dbname": parameters.database,
        "user": parameters.user,
        **(parameters.options or {}),
    }
    parts = []
    for key, value in values.items():
        if value is None or value == "":
            continue
        text = str(value).replace("\\", "\\\\").replace("'", "\\'")
        parts.append(f"{key}='{text}'")
    return " ".join(parts)


class TapPostgresBulk(TapPostgres):
    """tap-postgres whose INCREMENTAL and FULL_TABLE streams can copy their window in bulk."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._snapshot: Snapshot | None = None
        super().__init__(*args, **kwargs)

    @property
    def snapshot(self) -> Snapshot:
        """The run's one snapshot of the source (opened on first use)."""
        if self._snapshot is None:
            parameters = self.connection_parameters
            self._snapshot = Snapshot(conninfo(parameters), parameters.password)
        return self._snapshot

    def discover_streams(self) -> Sequence[Stream]:
        """tap-postgres' streams, the non-LOG_BASED ones with the bulk path."""
        connector = self.connector  # sets connection_parameters
        streams: list[Stream] = []
        for entry in self.catalog_dict["streams"]:
            if entry["replication_method"] == "LOG_BASED":
                streams.append(
                    PostgresLogBasedStream(
                        self,
                        entry,
                        connection_parameters=self.connection_parameters,
                        connector=connector,
                    )
                )
            else:
                streams.append(
                    BulkPostgresStream(self, entry, connector=connector, snapshot=self.snapshot)
                )
        return streams

    def sync_all(self) -> None:
        """Sync every stream, then end the snapshot's transaction."""
        try:
            super().sync_all()
        finally:
            if self._snapshot is not None:
                self._snapshot.close()


if __name__ == "__main__":
    TapPostgresBulk.cli()
