"""A small HTTP load generator: keep-alive connections on asyncio, each posting webhook notices in turn.

``python -m bench.loadgen <port> <path> <requests> <connections>`` posts webCRM organisation notices
with distinct record ids to 127.0.0.1 and prints a JSON line: requests, accepted (2xx), statuses,
seconds, requests per second, and the record ids that were accepted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter


def notice(record_id: int) -> bytes:
    return json.dumps(
        {
            "HookId": 1,
            "EventType": "Update",
            "EntityType": "Organisation",
            "EntityId": record_id,
            "Timestamp": "2026-01-01T00:00:00",
            "Data": {"OrganisationId": record_id},
        }
    ).encode()


async def worker(port: int, path: str, ids: asyncio.Queue, statuses: Counter, accepted: list[int]) -> None:
    reader = writer = None
    while True:
        try:
            record_id = ids.get_nowait()
        except asyncio.QueueEmpty:
            break
        body = notice(record_id)
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
        ).encode() + body
        for _ in range(3):
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                status = int(lines[0].split()[1])
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                await reader.readexactly(int(headers.get("content-length", 0)))
                if headers.get("connection", "").lower() == "close":
                    writer.close()
                    reader = writer = None
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                if writer is not None:
                    writer.close()
                reader = writer = None
        else:
            status = 0
        statuses[status] += 1
        if 200 <= status < 300:
            accepted.append(record_id)
    if writer is not None:
        writer.close()


async def main(port: int, path: str, count: int, connections: int, offset: int = 0) -> None:
    ids: asyncio.Queue = asyncio.Queue()
    for record_id in range(offset + 1, offset + count + 1):
        ids.put_nowait(record_id)
    statuses: Counter = Counter()
    accepted: list[int] = []
    began = time.perf_counter()
    await asyncio.gather(*(worker(port, path, ids, statuses, accepted) for _ in range(connections)))
    seconds = time.perf_counter() - began
    print(
        json.dumps(
            {
                "requests": count,
                "accepted": len(accepted),
                "statuses": dict(statuses),
                "seconds": round(seconds, 2),
                "rps": round(count / seconds, 1),
                "accepted_ids": sorted(accepted),
            }
        )
    )


if __name__ == "__main__":
    port, path, count, connections = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    offset = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    asyncio.run(main(port, path, count, connections, offset))
