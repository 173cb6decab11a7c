"""Singer BATCH files: where they are (file:// or s3://), how they are read, and removal.

A BATCH file holds records (JSON lines, or Parquet with typed columns) without the Singer
metadata a RECORD message gets in the target; the metadata of the whole file is given as
constants (see normalize.JsonLines and normalize.ParquetFile).
"""

from __future__ import annotations

import logging
import typing as t
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from target_redshift.normalize import JsonLines, ParquetFile

log = logging.getLogger(__name__)


class BatchFileError(RuntimeError):
    """A BATCH message names a file that cannot be read."""


@dataclass(frozen=True)
class LocalBatchFile:
    """A BATCH file on local disk: the tap's own file, or a download of an S3 object."""

    path: Path
    compressed: bool
    constants: Mapping[str, str | None]
    downloaded: bool
    parquet: bool = False

    def as_json_lines(self) -> JsonLines:
        return JsonLines(self.path, compressed=self.compressed, constants=self.constants)

    def as_source(self) -> JsonLines | ParquetFile:
        """What normalize reads: the file with its format and metadata constants."""
        if self.parquet:
            return ParquetFile(self.path, constants=self.constants)
        return self.as_json_lines()

    def discard(self) -> None:
        """Remove a downloaded copy (the original is removed by BatchSource.delete)."""
        if self.downloaded:
            self.path.unlink(missing_ok=True)


@dataclass
class BatchSource:
    """How the files of one BATCH message are read: compression and metadata constants."""

    compressed: bool
    constants: Mapping[str, str | None] = field(default_factory=dict)
    s3_client_factory: t.Callable[[], t.Any] | None = None
    parquet: bool = False

    def _s3(self) -> t.Any:
        if self.s3_client_factory is not None:
            return self.s3_client_factory()
        import boto3

        return boto3.session.Session().client("s3")

    def fetch(self, url: str, workdir: Path) -> LocalBatchFile:
        """The file on local disk; an s3:// object is downloaded into `workdir` first."""
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path))
            if not path.is_file():
                msg = (
                    f"BATCH file {url} does not exist: it was loaded and removed by an earlier "
                    "run (delete_batch_files), or the tap wrote it on another machine. Rerun the "
                    "tap and the loader together."
                )
                raise BatchFileError(msg)
            return LocalBatchFile(
                path, self.compressed, self.constants, downloaded=False, parquet=self.parquet
            )
        if parsed.scheme == "s3":
            target = workdir / f"batch-{uuid.uuid4().hex[:12]}{Path(parsed.path).suffix}"
            key = parsed.path.lstrip("/")
            try:
                self._s3().download_file(parsed.netloc, key, str(target))
            except Exception as error:
                msg = f"could not read BATCH file {url} ({error}); check the bucket and rerun"
                raise BatchFileError(msg) from error
            return LocalBatchFile(
                target, self.compressed, self.constants, downloaded=True, parquet=self.parquet
            )
        msg = f"BATCH file {url}: only file:// and s3:// locations are supported"
        raise BatchFileError(msg)

    def delete(self, url: str) -> None:
        """Remove a loaded BATCH file; a file already gone is not an error."""
        parsed = urlparse(url)
        if parsed.scheme == "file":
            Path(unquote(parsed.path)).unlink(missing_ok=True)
        elif parsed.scheme == "s3":
            self._s3().delete_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))
        log.debug("removed BATCH file %s", url)
