"""A throw-away PostgreSQL cluster (tests, bench, ``make central-demo``): Debian's initdb + pg_ctl, free loopback port,
private socket dir.

As root the cluster runs as the ``postgres`` system user (PostgreSQL refuses to run as root). ``restart()`` and
``stop()`` let fault tests take the server away under running workers. Never for production data (fsync off).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

from edge.central.errors import CentralError

PG_BIN = next(
    (Path(p) for p in ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin") if Path(p, "initdb").exists()),
    None,
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    def __init__(self) -> None:
        if PG_BIN is None:
            raise CentralError(
                "PostgreSQL server binaries not found", remedy="apt-get install -y postgresql (Debian's package)"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="examgate-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            self._as = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
        self.dir.chmod(0o755)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "examgate", "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        if PG_BIN is None:
            raise CentralError("PostgreSQL server binaries not found")
        subprocess.run([*self._as, str(PG_BIN / tool), *args], check=True, capture_output=True, cwd=self.dir)

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=examgate dbname=postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_db(self, name: str) -> str:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"host=127.0.0.1 port={self.port} user=examgate dbname={name}"

    def cleanup(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
