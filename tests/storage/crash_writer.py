"""A process that writes subscribers and CDRs in a loop until it is killed.

Run as ``python crash_writer.py <data dir or URL> <prefix>``. After each committed batch it
prints ``subscribers <total>``, ``cdrs <total>`` or ``bindings <total>`` on stdout, so the
test knows what was committed before it sent SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

from ssw.storage import Binding, Cdr, Storage

SUBSCRIBER_BATCH = 500
CDR_BATCH = 50
DOMAIN = "crash.example"
START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def cdr(n: int) -> Cdr:
    setup = START + timedelta(seconds=n)
    return Cdr(
        domain=DOMAIN,
        connection_id=f"c{n}",
        caller="100000",
        callee=str(100000 + n % 1000),
        setup_at=setup,
        answer_at=setup + timedelta(milliseconds=1500 + n % 1000),
        end_at=setup + timedelta(seconds=30, milliseconds=n % 1000),
        release_cause=16,
        release_side="caller",
    )


async def main(target: str, prefix: str) -> None:
    storage = await Storage.open(target, db_prefix=prefix)
    await storage.domains.declare(DOMAIN)
    print("ready", flush=True)
    subscribers = cdrs = 0
    while True:
        numbers = [str(100000 + subscribers + i) for i in range(SUBSCRIBER_BATCH)]
        await storage.subscribers.declare_many(DOMAIN, numbers, group="g", password="pw")
        subscribers += SUBSCRIBER_BATCH
        print(f"subscribers {subscribers}", flush=True)
        await storage.cdrs.add_many(cdr(cdrs + i) for i in range(CDR_BATCH))
        cdrs += CDR_BATCH
        print(f"cdrs {cdrs}", flush=True)
        # every subscriber of the batch registers two contacts, all in one transaction
        expires = START + timedelta(hours=1)
        await storage.registrations.replace_many(
            {
                f"{n}@{DOMAIN}": [
                    Binding(f"{n}@{DOMAIN}", f"sip:{n}@192.0.2.1:{port}", expires)
                    for port in (5060, 5062)
                ]
                for n in numbers
            }
        )
        print(f"bindings {subscribers * 2}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
