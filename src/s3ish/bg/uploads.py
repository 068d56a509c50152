"""Abandoned multipart uploads are aborted (their parts freed) once older than an age limit."""
import time

from .worker import Status


class UploadReaper:
    def __init__(self, multipart, max_age_seconds: float, batch: int = 100):
        self.multipart = multipart
        self.max_age = max_age_seconds
        self.batch = batch
        self.aborted = 0

    async def step(self) -> Status:
        n = await self.multipart.expire_uploads(time.time() - self.max_age, self.batch)
        self.aborted += n
        return Status.BUSY if n >= self.batch else Status.IDLE
