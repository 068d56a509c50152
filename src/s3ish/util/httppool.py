"""A small bounded pool of keep-alive `httpclient.Connection`s to one host.

At most `size` connections are in use at once (callers beyond that wait their turn). A released
connection is kept for the next caller only if its exchange ended cleanly (not closed, no body
left unread); idle connections older than `max_idle` seconds are dropped rather than reused,
because servers close idle keep-alive sockets after a few seconds (uvicorn: 5 s) and a request
whose body is a one-shot iterator cannot be replayed on a fresh socket if the old one turns out
to be dead.
"""
import asyncio
import collections
import contextlib

from .httpclient import Connection


class Pool:
    def __init__(self, host: str, port: int, ssl_context=None, server_hostname=None, *,
                 size: int = 8, connect_timeout: float = 10.0,
                 idle_timeout: float | None = 30.0, max_idle: float = 3.0):
        if size < 1:
            raise ValueError("a pool holds at least one connection")
        self.host, self.port = host, port
        self.ssl, self.server_hostname = ssl_context, server_hostname
        self.size = size
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.max_idle = max_idle
        self._idle = collections.deque()   # (connection, loop time it was released)
        self._slots = asyncio.Semaphore(size)
        self._in_use = set()
        self.created = 0                    # connections made (for tests and metrics)

    async def acquire(self) -> Connection:
        await self._slots.acquire()
        now = asyncio.get_running_loop().time()
        while self._idle:
            conn, since = self._idle.pop()   # the most recently used: the likeliest alive
            if not conn.closed and now - since <= self.max_idle:
                self._in_use.add(conn)
                return conn
            conn.close()
        conn = Connection(self.host, self.port, self.ssl, self.server_hostname,
                          self.connect_timeout, self.idle_timeout)
        self.created += 1
        self._in_use.add(conn)
        return conn

    def release(self, conn: Connection) -> None:
        """Give a connection back: kept if its exchange is over and its socket still open."""
        if conn not in self._in_use:
            return
        self._in_use.discard(conn)
        if conn.closed or conn.busy:
            conn.close()
        else:
            self._idle.append((conn, asyncio.get_running_loop().time()))
        self._slots.release()

    @contextlib.asynccontextmanager
    async def connection(self):
        """`async with pool.connection() as conn:` one exchange (not a streamed body that
        outlives the block: use acquire/release for that)."""
        conn = await self.acquire()
        try:
            yield conn
        finally:
            self.release(conn)

    def close(self) -> None:
        """Drop every connection, idle or in use."""
        while self._idle:
            self._idle.pop()[0].close()
        for conn in list(self._in_use):
            conn.close()
