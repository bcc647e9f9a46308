"""A throwaway benchmark database: create, migrate (the generated project's schema), seed; or drop.

Run with the rendered project's interpreter (it has asyncpg and the package):
    seed.py ADMIN_URL NAME --items 10000   -> prints the database URL
    seed.py ADMIN_URL NAME --drop
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys

import asyncpg

PACKAGE = "my_mcp_server"


async def create(admin_url: str, name: str, items: int) -> str:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    env = {**os.environ, PACKAGE.upper() + "_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", PACKAGE, "migrate"], env=env, check=True)
    conn = await asyncpg.connect(url)
    try:
        # Keys as the data layer's seed writes them: item-000001, item-000002, ...
        await conn.execute(
            "INSERT INTO items (key, value) SELECT 'item-' || lpad(i::text, 6, '0'),"
            " 'value of item ' || i FROM generate_series(1, $1) AS i",
            items,
        )
    finally:
        await conn.close()
    return url


async def drop(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("admin_url")
    parser.add_argument("name")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    if args.drop:
        asyncio.run(drop(args.admin_url, args.name))
    else:
        print(asyncio.run(create(args.admin_url, args.name, args.items)))


if __name__ == "__main__":
    main()
