"""Bot process rows: who is alive, so a decision claim held by a dead process is known to be dead.

Each process registers at start under its own id, ``<replica>:<boot>``; registering removes earlier
boots of the same replica (a restarted bot's claims are dead at once). A process beats every
``HEARTBEAT_EVERY``; one silent for ``DEAD_AFTER`` is dead (claims it held are taken over).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, insert, select, update

from bot.storage.rows import Rows
from bot.storage.schema import bot_instances

HEARTBEAT_EVERY = timedelta(seconds=10)
DEAD_AFTER = timedelta(seconds=35)
"""Three missed beats and a margin."""


class InstanceRows(Rows):
    _instance_id: str
    _replica: str

    @property
    def instance_id(self) -> str:
        """This process's id: the owner written on the decision claims it takes."""
        return self._instance_id

    async def register_instance(self) -> None:
        """Records this process as alive; earlier boots of the same replica are dead from now on."""
        now = self._clock()
        async with self._writer.begin() as conn:
            await conn.execute(delete(bot_instances).where(bot_instances.c.replica == self._replica))
            await conn.execute(
                insert(bot_instances).values(
                    instance_id=self._instance_id, replica=self._replica, started_at=now, heartbeat_at=now
                )
            )

    async def beat(self) -> None:
        """This process is still alive (re-registers if its row was removed meanwhile)."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(bot_instances)
                .where(bot_instances.c.instance_id == self._instance_id)
                .values(heartbeat_at=self._clock())
            )
        if not result.rowcount:
            await self.register_instance()

    async def is_alive(self, instance_id: str) -> bool:
        """Whether ``instance_id`` is registered and beat within ``DEAD_AFTER``."""
        if instance_id == self._instance_id:
            return True
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(bot_instances.c.heartbeat_at).where(bot_instances.c.instance_id == instance_id)
                )
            ).first()
        return row is not None and row.heartbeat_at > self._clock() - DEAD_AFTER
